"""What a detector reports: a typed span, never the matched text."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

__all__ = ["MERGEABLE_ENTITIES", "Finding", "merge_adjacent", "resolve_overlaps"]


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
        return Finding(
            self.entity, self.start + offset, self.end + offset, self.score, self.detector
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "type": self.entity,
            "start": self.start,
            "end": self.end,
            "score": round(self.score, 4),
        }


def resolve_overlaps(findings: list[Finding], rank: dict[str, int] | None = None) -> list[Finding]:
    """Keep a set of non-overlapping findings, sorted by start.

    Conflicts go to the more sensitive entity (``rank``), then the higher
    score, then the longer span: masking must never reveal a part of a span
    that another detector thought sensitive, so a loser is not kept as a
    fragment: a loser fully inside a kept finding is dropped, and a loser
    that sticks out is merged into the winner, whose span grows to cover the
    loser and every kept finding the loser touched.
    """
    rank = rank or {}

    def priority(f: Finding) -> tuple[int, float, int, int]:
        return (-rank.get(f.entity, 0), -f.score, -(f.end - f.start), f.start)

    # ``kept`` never overlaps, so it is sorted by start and by end at once.
    kept: list[Finding] = []
    starts: list[int] = []
    for f in sorted(findings, key=priority):
        hi = bisect_left(starts, f.end)
        lo = hi
        while lo > 0 and kept[lo - 1].end > f.start:
            lo -= 1
        clash = kept[lo:hi]
        if not clash:
            kept.insert(hi, f)
            starts.insert(hi, f.start)
            continue
        if len(clash) == 1 and clash[0].start <= f.start and f.end <= clash[0].end:
            continue  # fully covered by a stronger finding
        # The clash plus ``f`` is one contiguous stretch: it becomes one
        # finding of the strongest type.
        winner = min(clash, key=priority)
        merged = Finding(
            winner.entity,
            min(f.start, clash[0].start),
            max(f.end, clash[-1].end),
            winner.score,
            winner.detector,
        )
        kept[lo:hi] = [merged]
        starts[lo:hi] = [merged.start]
    return kept


# Entities whose pieces a detector may report apart ("1979-05-16" and
# "11:28:01"; "Jane" and "Doe"): one thing, so one finding.
MERGEABLE_ENTITIES = frozenset(
    {"DATE_TIME", "PERSON", "LOCATION", "ORGANIZATION", "STREET_ADDRESS", "NRP"}
)
_MAX_GAP = 2


def merge_adjacent(
    findings: list[Finding], text: str, entities: frozenset[str] = MERGEABLE_ENTITIES
) -> list[Finding]:
    """Join findings of one mergeable type separated only by one or two spaces."""
    out: list[Finding] = []
    last: dict[str, int] = {}  # entity -> index in out of its latest finding
    for f in sorted(findings, key=lambda f: (f.start, -f.end)):
        j = last.get(f.entity)
        if f.entity in entities and j is not None:
            prev = out[j]
            gap = text[prev.end : f.start]
            if prev.end >= f.start or (len(gap) <= _MAX_GAP and not gap.strip(" \t")):
                out[j] = Finding(f.entity, prev.start, max(prev.end, f.end),
                                 max(prev.score, f.score), prev.detector)
                continue
        last[f.entity] = len(out)
        out.append(f)
    return out
