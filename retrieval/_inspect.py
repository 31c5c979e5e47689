"""Inspect a generated answer before it is shown.

First line of defence for the answer (issue-level detail grows here):
entities the principal may not read are masked (``redact``), secrets block
the answer whatever the clearance. Findings carry offsets and types only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from classification import Policy
from classification._masking import Pseudonymizer, mask

from ._principal import Principal
from ._query import _Classifier
from ._retrieval_id import RetrievalIds

__all__ = ["SECRET_TYPES", "InspectFinding", "InspectResult", "Inspector"]

log = logging.getLogger(__name__)

SECRET_TYPES = frozenset({"AWS_ACCESS_KEY", "PRIVATE_KEY", "API_TOKEN", "PASSWORD"})
BLOCKED_NOTICE = "[answer withheld: it contained content that may not be shown]"

Verdict = Literal["allow", "redact", "block"]


@dataclass(frozen=True)
class InspectFinding:
    type: str
    start: int
    end: int
    action: Literal["redact", "block"]
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {"type": self.type, "start": self.start, "end": self.end,
                "action": self.action, "reason": self.reason}


@dataclass(frozen=True)
class InspectResult:
    verdict: Verdict
    answer: str
    findings: tuple[InspectFinding, ...]

    def __repr__(self) -> str:
        return f"InspectResult(verdict={self.verdict!r}, findings={len(self.findings)})"

    def as_dict(self) -> dict[str, object]:
        return {"verdict": self.verdict, "answer": self.answer,
                "findings": [f.as_dict() for f in self.findings]}


class Inspector:
    def __init__(
        self,
        *,
        policy: Callable[[], Policy],
        classifier: _Classifier,
        pseudonyms: Pseudonymizer,
        retrieval_ids: RetrievalIds,
    ) -> None:
        self._policy = policy
        self._classifier = classifier
        self._pseudonyms = pseudonyms
        self._ids = retrieval_ids

    def inspect(self, principal: Principal, answer: str, retrieval_id: str | None) -> InspectResult:
        """Raises :class:`RetrievalIdError` for a bad, foreign or expired id."""
        if retrieval_id is not None:
            self._ids.verify(retrieval_id, principal)
        policy = self._policy()
        found = self._classifier.classify(answer).findings
        findings: list[InspectFinding] = []
        offending: set[tuple[int, int]] = set()
        for f in found:
            if f.entity in SECRET_TYPES:
                findings.append(InspectFinding(f.entity, f.start, f.end, "block", "secret"))
            elif not policy.may_unmask(principal.roles, f.entity):
                findings.append(
                    InspectFinding(f.entity, f.start, f.end, "redact", "above_clearance"))
            else:
                continue
            offending.add((f.start, f.end))
        if any(f.action == "block" for f in findings):
            verdict: Verdict = "block"
            safe = BLOCKED_NOTICE
        elif findings:
            verdict = "redact"
            safe = mask(answer, found, policy, self._pseudonyms, principal.tenant,
                        reveal=lambda f: (f.start, f.end) not in offending).text
        else:
            verdict, safe = "allow", answer
        log.info("inspection", extra={"verdict": verdict, "findings": len(findings),
                                      "types": sorted({f.type for f in findings})})
        return InspectResult(verdict, safe, tuple(findings))
