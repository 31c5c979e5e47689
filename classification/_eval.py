"""Detection quality on a labelled corpus: precision, recall and F2 per type.

Input is JSON lines ``{"text": str, "spans": [{"type", "start", "end"}]}``.
Gold types are first translated to ours (``mapping``; a gold type we do not
detect and nobody mapped is *not evaluated*), then gold and predicted spans
are compared in our type space under one of three matching schemes:

``overlap`` (default)
    Span level, in the manner of presidio-research's ``SpanEvaluator``
    (character-level IoU): both spans are trimmed of whitespace and
    punctuation at their edges; a prediction matches a gold span of the same
    type when their intersection over union is at least ``iou`` (0.5), or
    when the trimmed spans are equal. Each span matches at most once
    (greedy, best IoU first). presidio-research also removes skip words and
    defaults to a higher threshold, so figures are close, not identical.
``exact``
    Span level; start and end must be equal (after the same trimming).
``token``
    Token level, like presidio-research's older token ``Evaluator``: the
    text is cut into word and punctuation tokens (whitespace dropped), each
    token gets its gold and its predicted type (or none), and every token
    counts once: TP when both agree, FP for the predicted type and FN for
    the gold type otherwise.

F2 weighs recall twice as much as precision (a missed SSN costs more than
a masked word). Predictions of a type no evaluated gold type maps to are
ignored (the corpus says nothing about them) and counted apart.

Errors::

    EvalInputError     a line of the labelled file is not usable (names the line)

Why one module of this size: the three matching schemes share the span
trimming, the greedy matcher and the report types; ``ragseal eval`` and the
benchmarks call them as one unit.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from ragseal import InvalidInputError

if TYPE_CHECKING:
    from ._classifier import Classifier

__all__ = [
    "MATCH_SCHEMES",
    "Counts",
    "EvalInputError",
    "EvalReport",
    "LabeledSample",
    "Miss",
    "Span",
    "evaluate",
    "parse_labeled",
    "parse_mapping",
    "predict",
]

Scheme = Literal["overlap", "exact", "token"]
MATCH_SCHEMES: tuple[str, ...] = ("overlap", "exact", "token")

_TOKEN = re.compile(r"\w+|[^\w\s]")
_EDGE = " \t\r\n.,;:!?\"'()[]{}<>"


class EvalInputError(InvalidInputError, ValueError):
    """The labelled corpus cannot be read; the message names the line and key."""


@dataclass(frozen=True, slots=True)
class Span:
    """A typed character span; ``score`` is 1.0 for gold spans."""

    type: str
    start: int
    end: int
    score: float = 1.0

    def as_dict(self) -> dict[str, object]:
        return {"type": self.type, "start": self.start, "end": self.end,
                "score": round(self.score, 4)}


@dataclass(frozen=True, slots=True)
class LabeledSample:
    text: str
    spans: tuple[Span, ...]
    line: int = 0  # 1-based line of the labelled file (0: not read from a file)

    def __repr__(self) -> str:  # never show corpus text
        return f"LabeledSample(chars={len(self.text)}, spans={len(self.spans)})"


@dataclass(frozen=True, slots=True)
class Counts:
    """True positives, false positives and false negatives of one type (or all)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    @property
    def precision(self) -> float | None:
        """None when nothing was predicted (undefined, not zero)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        """None when the corpus has no gold span of the type."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    def f_beta(self, beta: float = 2.0) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        if p == 0.0 and r == 0.0:
            return 0.0
        b2 = beta * beta
        return (1 + b2) * p * r / (b2 * p + r)

    @property
    def f2(self) -> float | None:
        return self.f_beta(2.0)

    def as_dict(self) -> dict[str, object]:
        def r4(x: float | None) -> float | None:
            return None if x is None else round(x, 4)

        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": r4(self.precision),
                "recall": r4(self.recall), "f2": r4(self.f2)}


@dataclass(frozen=True, slots=True)
class Miss:
    """A gold span that no prediction matched, and why."""

    sample: int  # 1-based sample number (blank lines are not samples)
    type: str  # the gold type as written in the corpus
    start: int
    end: int
    reason: Literal["missed", "wrong type", "boundary"]
    line: int = 0  # 1-based line of the labelled file (0: not read from a file)

    def as_dict(self) -> dict[str, object]:
        return {"sample": self.sample, "line": self.line or self.sample, "type": self.type,
                "start": self.start, "end": self.end, "reason": self.reason}


_REASON_ORDER = {"missed": 0, "wrong type": 1, "boundary": 2}


@dataclass(frozen=True)
class EvalReport:
    """Figures per evaluated type (ours), overall (micro) and type-agnostic (PII)."""

    scheme: str
    iou: float
    per_type: dict[str, Counts]
    overall: Counts
    pii: Counts
    gold_recall: dict[str, Counts]  # per gold type as written: tp and fn only
    not_evaluated: dict[str, int]  # gold type -> spans
    ignored_predictions: dict[str, int]  # our type -> spans
    misses: dict[str, list[Miss]] = field(default_factory=dict)  # gold type -> worst first
    samples: int = 0

    def as_dict(self, max_misses: int = 10) -> dict[str, object]:
        return {
            "scheme": self.scheme,
            "iou": self.iou if self.scheme == "overlap" else None,
            "samples": self.samples,
            "overall": self.overall.as_dict(),
            "pii": self.pii.as_dict(),
            "per_type": {t: c.as_dict() for t, c in sorted(self.per_type.items())},
            "gold_recall": {t: c.as_dict() for t, c in sorted(self.gold_recall.items())},
            "not_evaluated": dict(sorted(self.not_evaluated.items())),
            "ignored_predictions": dict(sorted(self.ignored_predictions.items())),
            "misses": {t: [m.as_dict() for m in ms[:max_misses]]
                       for t, ms in sorted(self.misses.items())},
        }


# -- input ------------------------------------------------------------------------------


def parse_mapping(items: Iterable[str]) -> dict[str, str]:
    """``GOLD=OURS`` items into a dict; ``GOLD=`` means "do not evaluate GOLD"."""
    mapping: dict[str, str] = {}
    for item in items:
        gold, sep, ours = item.partition("=")
        if not sep or not gold.strip():
            raise EvalInputError(f"--map {item!r}: expected GOLD=OURS, e.g. GPE=LOCATION")
        mapping[gold.strip()] = ours.strip()
    return mapping


def _span(obj: object, where: str, text_len: int, *, scored: bool = False) -> Span:
    if not isinstance(obj, Mapping):
        raise EvalInputError(f"{where}: a span must be an object")
    kind, start, end = obj.get("type"), obj.get("start"), obj.get("end")
    if not isinstance(kind, str) or not kind:
        raise EvalInputError(f"{where}.type: a non-empty string is required")
    for key, value in (("start", start), ("end", end)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise EvalInputError(f"{where}.{key}: an integer is required")
    assert isinstance(start, int) and isinstance(end, int)  # noqa: S101 - narrowed above
    if not 0 <= start < end <= text_len:
        raise EvalInputError(f"{where}: needs 0 <= start < end <= len(text)")
    score = obj.get("score", 1.0) if scored else 1.0
    if not isinstance(score, int | float):
        raise EvalInputError(f"{where}.score: a number is required")
    return Span(kind, start, end, float(score))


def parse_labeled(lines: Iterable[str]) -> list[LabeledSample]:
    """Parse JSON lines of the labelled corpus (blank lines are skipped)."""
    samples: list[LabeledSample] = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            raise EvalInputError(f"line {n}: not valid JSON") from None
        if not isinstance(obj, Mapping):
            raise EvalInputError(f"line {n}: expected an object")
        text, spans = obj.get("text"), obj.get("spans", [])
        if not isinstance(text, str):
            raise EvalInputError(f"line {n}.text: a string is required")
        if not isinstance(spans, list):
            raise EvalInputError(f"line {n}.spans: a list is required")
        samples.append(LabeledSample(
            text, tuple(_span(s, f"line {n}.spans[{i}]", len(text)) for i, s in enumerate(spans)),
            line=n,
        ))
    return samples


def predict(
    classifier: Classifier, texts: Sequence[str], *, batch: int = 256
) -> list[list[Span]]:
    """Our findings per text as spans, through ``classify_many`` in batches."""
    out: list[list[Span]] = []
    for i in range(0, len(texts), batch):
        for result in classifier.classify_many(texts[i : i + batch]):
            out.append([Span(f.entity, f.start, f.end, f.score) for f in result.findings])
    return out


# -- matching ---------------------------------------------------------------------------


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in _EDGE:
        start += 1
    while end > start and text[end - 1] in _EDGE:
        end -= 1
    return start, end


def _iou(a: tuple[int, int], b: tuple[int, int]) -> float:
    inter = min(a[1], b[1]) - max(a[0], b[0])
    if inter <= 0:
        return 0.0
    return inter / (max(a[1], b[1]) - min(a[0], b[0]))


def _match_spans(
    gold: list[tuple[int, int, str]], pred: list[tuple[int, int, str]], exact: bool, iou: float
) -> tuple[set[int], set[int]]:
    """Indices of matched gold and matched predictions (same type, one-to-one)."""
    pairs: list[tuple[float, int, int]] = []
    for gi, (gs, ge, gt) in enumerate(gold):
        for pi, (ps, pe, pt) in enumerate(pred):
            if gt != pt:
                continue
            score = 1.0 if (gs, ge) == (ps, pe) else (0.0 if exact else _iou((gs, ge), (ps, pe)))
            if score >= iou or score == 1.0:
                pairs.append((score, gi, pi))
    gold_hit: set[int] = set()
    pred_hit: set[int] = set()
    for _, gi, pi in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
        if gi not in gold_hit and pi not in pred_hit:
            gold_hit.add(gi)
            pred_hit.add(pi)
    return gold_hit, pred_hit


def _token_types(text: str, spans: Sequence[tuple[int, int, str]]) -> list[str | None]:
    """The type of each word/punctuation token (the first span touching it), or None."""
    out: list[str | None] = []
    for m in _TOKEN.finditer(text):
        ts, te = m.start(), m.end()
        out.append(next((t for s, e, t in spans if s < te and ts < e), None))
    return out


def evaluate(
    samples: Sequence[LabeledSample],
    predictions: Sequence[Sequence[Span]],
    *,
    mapping: Mapping[str, str] | None = None,
    known_types: Iterable[str] | None = None,
    scheme: str = "overlap",
    iou: float = 0.5,
) -> EvalReport:
    """Compare ``predictions`` (our types) with the samples' gold spans.

    ``mapping`` translates gold types to ours (``""``: not evaluated); a gold
    type it does not name is evaluated as itself when it is one of
    ``known_types`` (the types we detect; None: every gold type), else it is
    not evaluated. Predictions are scored for the types gold spans map to and
    for every mapping target; other predicted types are ignored.
    """
    if scheme not in MATCH_SCHEMES:
        raise ValueError(f"unknown matching scheme {scheme!r}; use one of {MATCH_SCHEMES}")
    if not 0.0 < iou <= 1.0:
        raise ValueError("iou must be in (0, 1]")
    if len(predictions) != len(samples):
        raise ValueError("one list of predicted spans per sample is required")
    mapping = dict(mapping or {})
    known = None if known_types is None else frozenset(known_types)

    def ours(gold_type: str) -> str:
        if gold_type in mapping:
            return mapping[gold_type]
        return gold_type if known is None or gold_type in known else ""

    # Our types under evaluation: those gold spans map to, and every mapping
    # target (a mapped type with no gold span still has false positives).
    evaluated = ({ours(s.type) for sample in samples for s in sample.spans}
                 | set(mapping.values())) - {""}
    per_type: dict[str, Counts] = defaultdict(Counts)
    gold_recall: dict[str, Counts] = defaultdict(Counts)
    pii = Counts()
    not_evaluated: Counter[str] = Counter()
    ignored: Counter[str] = Counter()
    misses: dict[str, list[Miss]] = defaultdict(list)

    for number, (sample, predicted) in enumerate(zip(samples, predictions, strict=True), 1):
        text = sample.text
        gold: list[tuple[int, int, str]] = []
        gold_names: list[str] = []
        for s in sample.spans:
            target = ours(s.type)
            if not target:
                not_evaluated[s.type] += 1
                continue
            gold.append((*_trim(text, s.start, s.end), target))
            gold_names.append(s.type)
        pred: list[tuple[int, int, str]] = []
        for p in predicted:
            if p.type in evaluated:
                pred.append((*_trim(text, p.start, p.end), p.type))
            else:
                ignored[p.type] += 1
        # Spans trimmed to nothing (pure punctuation) take no part.
        gold_keep = [i for i, g in enumerate(gold) if g[0] < g[1]]
        gold = [gold[i] for i in gold_keep]
        gold_names = [gold_names[i] for i in gold_keep]
        pred = [p for p in pred if p[0] < p[1]]

        if scheme == "token":
            for gold_t, pred_t in zip(_token_types(text, gold), _token_types(text, pred),
                                      strict=True):
                if gold_t is not None and gold_t == pred_t:
                    per_type[gold_t] += Counts(tp=1)
                else:
                    if pred_t is not None:
                        per_type[pred_t] += Counts(fp=1)
                    if gold_t is not None:
                        per_type[gold_t] += Counts(fn=1)
                if gold_t is not None and pred_t is not None:
                    pii += Counts(tp=1)
                elif gold_t is not None or pred_t is not None:
                    pii += Counts(fp=int(pred_t is not None), fn=int(gold_t is not None))
        else:
            exact = scheme == "exact"
            gold_hit, pred_hit = _match_spans(gold, pred, exact, iou)
            for i, (_, _, t) in enumerate(pred):
                if i not in pred_hit:
                    per_type[t] += Counts(fp=1)
            any_gold, any_pred = _match_spans(
                [(s, e, "") for s, e, _ in gold], [(s, e, "") for s, e, _ in pred], exact, iou
            )
            pii += Counts(tp=len(any_gold), fp=len(pred) - len(any_pred),
                          fn=len(gold) - len(any_gold))
            for i, (gs, ge, gt) in enumerate(gold):
                if i in gold_hit:
                    per_type[gt] += Counts(tp=1)
                    gold_recall[gold_names[i]] += Counts(tp=1)
                    continue
                per_type[gt] += Counts(fn=1)
                gold_recall[gold_names[i]] += Counts(fn=1)
                overlapping = [p for p in pred if p[0] < ge and gs < p[1]]
                reason: Literal["missed", "wrong type", "boundary"] = (
                    "missed" if not overlapping
                    else "boundary" if any(p[2] == gt for p in overlapping)
                    else "wrong type"
                )
                misses[gold_names[i]].append(
                    Miss(number, gold_names[i], gs, ge, reason, sample.line))
        if scheme == "token":
            # Per gold type as written: a gold span counts as found when every
            # token of it got the right type.
            for (gs, ge, gt), name in zip(gold, gold_names, strict=True):
                sub = [(max(s, gs), min(e, ge), t) for s, e, t in pred if s < ge and gs < e]
                covered = all(
                    any(s <= m.start() and m.end() <= e and t == gt for s, e, t in sub)
                    for m in _TOKEN.finditer(text, gs, ge)
                )
                gold_recall[name] += Counts(tp=1) if covered else Counts(fn=1)
                if not covered:
                    reason = "missed" if not sub else (
                        "boundary" if any(t == gt for *_, t in sub) else "wrong type")
                    misses[name].append(Miss(number, name, gs, ge, reason, sample.line))

    for t in evaluated:
        per_type.setdefault(t, Counts())
    overall = sum(per_type.values(), Counts())
    ranked = {
        t: sorted(ms, key=lambda m: (_REASON_ORDER[m.reason], -(m.end - m.start), m.sample))
        for t, ms in misses.items()
    }
    return EvalReport(
        scheme=scheme, iou=iou, per_type=dict(per_type), overall=overall, pii=pii,
        gold_recall=dict(gold_recall), not_evaluated=dict(not_evaluated),
        ignored_predictions=dict(ignored), misses=ranked, samples=len(samples),
    )
