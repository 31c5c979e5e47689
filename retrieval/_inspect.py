"""Inspect a generated answer before it is shown: the last line of defence.

What is found (docs/INSPECT.md):

1. entities above the principal's clearance that the retrieval did not
   show this principal in clear (same classifier and policy as ingestion)
   -> ``redact``, written as the bare type (``<PERSON>``): never the
   corpus pseudonym, which would link a guessed value to the masked one;
2. secrets (keys, tokens, passwords), whatever the clearance -> ``block``;
3. provenance: passages of chunks the principal may not read, found by
   their keyed shingles (store/_fingerprints.py), values as wildcards ->
   ``block``, one finding over the whole answer (no offsets to bisect);
4. pseudonyms of the retrieval (``"pseudonymize": true``) are put back
   for a principal entitled to their type, and kept otherwise;
5. exfiltration channels (retrieval/_exfil.py) -> ``redact`` (images:
   ``block``).

Findings carry offsets into the answer as sent, types, actions and
reasons; never text. The verdict is the strongest action found.

No oracle (docs/THREATS.md): what the response says is a function of the
answer, of what the principal may read, and of the *wording* of chunks it
may not read, never of a value (entity, number) inside such a chunk. Names
the tenant's chunks carry as search tags are looked up only for the audit
trail and the probing detector (``known_values``), never for the response:
redacting a name because the tenant knows it would confirm a guessed name.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from ragseal.classification import Finding, Policy, Pseudonymizer, TextClassifier
from ragseal.store import (
    FINGERPRINT_FIELD,
    AccessFilter,
    Fingerprinter,
    KeyProvider,
    VectorStore,
    matches,
)

from ._access import access_filter
from ._exfil import find_exfiltration
from ._principal import Principal
from ._retrieval_id import RetrievalIds, RetrievalSession
from ._views import RequestKeys, open_hit, render

__all__ = ["BLOCKED_NOTICE", "SECRET_TYPES", "InspectFinding", "InspectResult", "Inspector"]

log = logging.getLogger(__name__)

SECRET_TYPES = frozenset({"AWS_ACCESS_KEY", "PRIVATE_KEY", "API_TOKEN", "PASSWORD"})
BLOCKED_NOTICE = "[answer withheld: it contained content that may not be shown]"
PROVENANCE_TYPE = "UNREADABLE_PASSAGE"

# A chunk the principal may not read is quoted when the answer shares at
# least this many distinct keyed shingles with it that no chunk the
# principal may read also has (3-word shingles: 3 shingles ~ 5 content
# words in a row, or a few scattered runs of a paraphrase).
MIN_SHARED_SHINGLES = 3
# Bounds the lookup of one answer (100k characters ~ 8k shingles).
_LOOKUP_BATCH = 1024

# Pseudonyms and masks as ragseal writes them: <PERSON_3f9a2b>, <US_SSN>,
# <CREDIT_CARD_****1111>.
_MASK_TOKEN = re.compile(r"<([A-Z][A-Z0-9_]{0,63}?)(?:_([0-9a-f]{6})|_\*{4}\d{4})?>")
_WORD = re.compile(r"[^\W_]+")
# Runs of capitalised words: candidate names, looked up as keyed search tags.
# A word ends at a word boundary: "Tet" of "Tet1" is no candidate.
_NAME_WORD = r"[A-Z][^\W\d_]*(?:['\u2019-][A-Za-z]+)*(?!\w)"
_CAPITALISED_RUN = re.compile(rf"\b{_NAME_WORD}(?:[ \t]+{_NAME_WORD})*")
# Entity types looked up by value in the tenant's search tags (what a
# detector misses most: names).
KNOWN_VALUE_TYPES = ("PERSON",)
_MAX_NAME_WORDS = 3

Verdict = Literal["allow", "redact", "block"]
Action = Literal["redact", "block"]


@dataclass(frozen=True)
class InspectFinding:
    type: str
    start: int
    end: int
    action: Action
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {"type": self.type, "start": self.start, "end": self.end,
                "action": self.action, "reason": self.reason}


@dataclass(frozen=True)
class InspectResult:
    verdict: Verdict
    answer: str
    findings: tuple[InspectFinding, ...]
    reidentified: int = 0
    # Names of the tenant (keyed search tags) the principal may not read that
    # the answer holds and no finding covers: for the audit trail and the
    # probing detector only, never for the response (it would be an oracle).
    known_values: int = 0

    def __repr__(self) -> str:
        return (f"InspectResult(verdict={self.verdict!r}, findings={len(self.findings)}, "
                f"reidentified={self.reidentified}, known_values={self.known_values})")

    def as_dict(self) -> dict[str, object]:
        # The contract's keys exactly; ``reidentified`` goes to the audit trail.
        return {"verdict": self.verdict, "answer": self.answer,
                "findings": [f.as_dict() for f in self.findings]}


def _words(text: str) -> str:
    """Words joined by single spaces, padded: `` a b c ``. Case is kept: a
    value counts as shown only as it was shown (fewer chance matches)."""
    return " " + " ".join(_WORD.findall(text)) + " "


class _Shown:
    """What a retrieval showed its principal: the texts, and their words."""

    __slots__ = ("_words", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._words: str | None = None

    def __repr__(self) -> str:
        return f"_Shown(len={len(self.text)})"

    @property
    def words(self) -> str:
        if self._words is None:
            self._words = _words(self.text)
        return self._words


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


class Inspector:
    """The inspect path. ``store``, ``keys`` and ``fingerprints`` are optional:
    without them there is no provenance check and no revealed-value check
    (every entity above clearance is a finding)."""

    def __init__(
        self,
        *,
        policy: Callable[[], Policy],
        classifier: TextClassifier,
        pseudonyms: Pseudonymizer,
        retrieval_ids: RetrievalIds,
        store: VectorStore | None = None,
        keys: KeyProvider | None = None,
        fingerprints: Fingerprinter | None = None,
    ) -> None:
        self._policy = policy
        self._classifier = classifier
        self._pseudonyms = pseudonyms
        self._ids = retrieval_ids
        self._store = store
        self._keys = keys
        self._fingerprints = fingerprints

    def inspect(self, principal: Principal, answer: str, retrieval_id: str | None) -> InspectResult:
        """Raises :class:`RetrievalIdError` for a bad, foreign or expired id."""
        started = time.perf_counter()
        session = self._ids.verify(retrieval_id, principal) if retrieval_id is not None else None
        policy = self._policy()
        access = access_filter(principal, policy)
        tokens = [(m.start(), m.end()) for m in _MASK_TOKEN.finditer(answer)]

        findings: list[InspectFinding] = []
        entity_masks: dict[tuple[int, int], Finding] = {}
        candidates: list[Finding] = []
        detected = self._classifier.classify(answer).findings
        for f in detected:
            if any(s <= f.start and f.end <= e for s, e in tokens):
                continue  # inside a mask or pseudonym ragseal wrote: nothing in clear
            if f.entity in SECRET_TYPES:
                findings.append(InspectFinding(f.entity, f.start, f.end, "block", "secret"))
            elif not policy.may_unmask(principal.roles, f.entity):
                candidates.append(f)
        known = len(self._known_values(principal, policy, answer, tokens))
        candidates.sort(key=lambda f: (f.start, f.end))
        shown: _Shown | None = None
        if candidates:
            shown = self._revealed(session, principal, policy, access)
            for f in candidates:
                value = _words(answer[f.start : f.end])
                if value.strip() and value in shown.words:
                    continue  # this retrieval showed this principal the value in clear
                findings.append(
                    InspectFinding(f.entity, f.start, f.end, "redact", "above_clearance"))
                entity_masks[(f.start, f.end)] = f

        for x in find_exfiltration(answer, policy.inspect.allowed_hosts):
            if x.url is not None and session is not None:
                shown = shown or self._revealed(session, principal, policy, access)
                if answer[x.url[0] : x.url[1]] in shown.text:
                    continue  # cites a URL the retrieval showed, verbatim: no added data
            findings.append(InspectFinding(x.type, x.start, x.end, x.action, "exfiltration"))
        values = [(f.start, f.end) for f in detected] + tokens
        if self._provenance(principal.tenant, answer, access, values):
            # The whole answer: where it matched would let a guesser bisect.
            findings.append(
                InspectFinding(PROVENANCE_TYPE, 0, len(answer), "block", "provenance"))
        findings.sort(key=lambda f: (f.start, f.end, f.type))

        reidentified = 0
        if any(f.action == "block" for f in findings):
            verdict: Verdict = "block"
            safe = BLOCKED_NOTICE
        else:
            verdict = "redact" if findings else "allow"
            safe, reidentified = self._rewrite(answer, findings, entity_masks, session,
                                               principal, policy)
        log.info("inspection", extra={
            "verdict": verdict, "findings": len(findings),
            "types": sorted({f.type for f in findings}), "reidentified": reidentified,
            "known_values": known, "ms": round((time.perf_counter() - started) * 1000, 2)})
        return InspectResult(verdict, safe, tuple(findings), reidentified, known)

    # -- the tenant's own values ------------------------------------------------
    def _known_values(self, principal: Principal, policy: Policy, answer: str,
                      tokens: Sequence[tuple[int, int]]) -> list[Finding]:
        """Names in ``answer`` that the tenant's chunks carry as keyed search
        tags, of types the principal may not read (counted for the audit
        trail and the probing detector; never shown)."""
        types = [t for t in KNOWN_VALUE_TYPES
                 if t in policy.entity_rules and not policy.may_unmask(principal.roles, t)]
        if not types or self._store is None:
            return []
        taken = list(tokens)
        spans: dict[str, tuple[str, int, int]] = {}
        for run in _CAPITALISED_RUN.finditer(answer):
            words = list(re.finditer(r"\S+", run.group()))
            for i in range(len(words)):
                for j in range(i, min(i + _MAX_NAME_WORDS, len(words))):
                    start = run.start() + words[i].start()
                    end = run.start() + words[j].end()
                    if any(start < e and s < end for s, e in taken):
                        continue
                    for entity in types:
                        tag = self._pseudonyms.search_tag(principal.tenant, entity,
                                                          answer[start:end])
                        spans[tag] = (entity, start, end)
        if not spans:
            return []
        known = self._store.known_tags(principal.tenant, list(spans))
        hits = sorted((spans[t] for t in known), key=lambda x: (x[1], -x[2]))
        out: list[Finding] = []
        for entity, start, end in hits:  # longest first at each start; no overlaps
            if out and start < out[-1].end:
                continue
            out.append(Finding(entity, start, end, 1.0, "known_value"))
        return out

    # -- what the retrieval showed ------------------------------------------
    def _revealed(self, session: RetrievalSession | None, principal: Principal,
                  policy: Policy, access: AccessFilter) -> _Shown:
        """Every chunk of ``session`` as this principal saw it (re-opened now:
        a chunk erased or no longer visible shows nothing)."""
        if session is None or not session.chunk_ids or self._store is None or self._keys is None:
            return _Shown("")
        views: list[str] = []
        keys = RequestKeys(self._keys)  # each data key read once per request
        for hit in self._store.retrieve(session.chunk_ids):
            if not matches(hit.payload, access):
                continue
            opened = open_hit(hit, policy, keys)
            if opened is not None:
                views.append(render(opened[1], principal, policy, self._pseudonyms).masked.text)
        return _Shown("\n".join(views))

    # -- provenance -----------------------------------------------------------
    def _provenance(self, tenant: str, answer: str, access: AccessFilter,
                    values: Sequence[tuple[int, int]]) -> bool:
        """Whether ``answer`` quotes a chunk the principal may not read.

        ``values`` (the spans the classifier found in the answer) are
        wildcards, as they were in the chunks at ingest: a guessed value and
        the true one give the same shingles.
        """
        if self._store is None or self._fingerprints is None:
            return False
        shingles = self._fingerprints.shingles(tenant, answer, values)
        if not shingles:
            return False
        fingerprints = sorted({s.value for s in shingles})
        readable: set[str] = set()
        unreadable: list[set[str]] = []
        for i in range(0, len(fingerprints), _LOOKUP_BATCH):
            for hit in self._store.match_fingerprints(tenant,
                                                      fingerprints[i : i + _LOOKUP_BATCH]):
                fps = hit.payload.get(FINGERPRINT_FIELD) or ()
                if matches(hit.payload, access):
                    readable.update(fps)
                else:
                    unreadable.append(set(fps))
        wanted = set(fingerprints) - readable
        return any(len(wanted & fps) >= MIN_SHARED_SHINGLES for fps in unreadable)

    # -- the answer as shown ---------------------------------------------------
    def _rewrite(
        self,
        answer: str,
        findings: Sequence[InspectFinding],
        entity_masks: dict[tuple[int, int], Finding],
        session: RetrievalSession | None,
        principal: Principal,
        policy: Policy,
    ) -> tuple[str, int]:
        """Mask the redacted spans; put back the pseudonyms this principal may read."""
        edits: list[tuple[int, int, str]] = []
        redacted = _merge((f.start, f.end) for f in findings)
        for s, e in redacted:
            inside = [f for f in findings if s <= f.start and f.end <= e]
            if len(inside) == 1 and (s, e) in entity_masks:
                # The bare type, never the keyed pseudonym: the corpus writes
                # <PERSON_8dd3b8> for this name, and handing that back would
                # tell a guesser which masked person it named (issue 14).
                token = f"<{entity_masks[(s, e)].entity}>"
            else:
                token = f"<{inside[0].type}>" if len(inside) == 1 else "<REDACTED>"
            edits.append((s, e, token))
        reidentified = 0
        if session is not None and session.pseudonyms:
            for m in _MASK_TOKEN.finditer(answer):
                clear = session.pseudonyms.get(m.group())
                if (clear is None or m.group(2) is None
                        or any(m.start() < e and s < m.end() for s, e in redacted)
                        or not policy.may_unmask(principal.roles, m.group(1))):
                    continue
                edits.append((m.start(), m.end(), clear))
                reidentified += 1
        if not edits:
            return answer, 0
        out: list[str] = []
        cursor = 0
        for s, e, token in sorted(edits):
            out.append(answer[cursor:s])
            out.append(token)
            cursor = e
        out.append(answer[cursor:])
        return "".join(out), reidentified
