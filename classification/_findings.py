"""What a detector reports: a typed span, never the matched text."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Finding", "resolve_overlaps"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One detected entity: ``text[start:end]`` is of type ``entity``.

    A finding deliberately holds no text, so it can be logged, compared and
    serialised without leaking what it points at.
    """

    entity: str
    start: int
    end: int
    score: float
    detector: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError("finding span must satisfy 0 <= start < end")

    def shifted(self, offset: int) -> Finding:
        return Finding(self.entity, self.start + offset, self.end + offset, self.score, self.detector)

    def as_dict(self) -> dict[str, object]:
        return {"type": self.entity, "start": self.start, "end": self.end, "score": round(self.score, 4)}


def resolve_overlaps(findings: list[Finding], rank: dict[str, int] | None = None) -> list[Finding]:
    """Keep a set of non-overlapping findings, sorted by start.

    Conflicts go to the more sensitive entity (``rank``), then the higher
    score, then the longer span: masking must never reveal a part of a span
    that another detector thought sensitive, so a loser that sticks out of
    the winner is not kept as a fragment but dropped only when fully
    covered; partial overlaps are merged into the winner's type.
    """
    rank = rank or {}
    ordered = sorted(
        findings,
        key=lambda f: (-rank.get(f.entity, 0), -f.score, -(f.end - f.start), f.start),
    )
    kept: list[Finding] = []
    for f in ordered:
        clash = [k for k in kept if f.start < k.end and k.start < f.end]
        if not clash:
            kept.append(f)
            continue
        # Extend the first winner to cover the sticking-out part of ``f``.
        winner = clash[0]
        start, end = min(winner.start, f.start), max(winner.end, f.end)
        if (start, end) != (winner.start, winner.end):
            merged = Finding(winner.entity, start, end, winner.score, winner.detector)
            kept = [k for k in kept if k is not winner and not (start < k.end and k.start < end)]
            kept.append(merged)
    return sorted(kept, key=lambda f: f.start)
