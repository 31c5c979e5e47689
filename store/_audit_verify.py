"""Reading the audit trail back: verify every chain, export the records.

:func:`verify_audit` checks every chain in a folder, each record's hash and
link, each seal's HMAC, and that no chain was removed or cut behind a
checkpoint or a link (docs/AUDIT.md says what it can and cannot detect);
:func:`read_audit` yields records for export. The chains are written by
``store/_audit.py``.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ._audit import _CHECKPOINT, _SUFFIX, GENESIS, _digest, _mac, _read_checkpoint

__all__ = ["AuditProblem", "AuditReport", "read_audit", "verify_audit", "verify_records"]


@dataclass(frozen=True, slots=True)
class AuditProblem:
    """The first bad record of a chain: file, seq (or line) and what is wrong."""

    file: str
    seq: int | None
    problem: str

    def __str__(self) -> str:
        where = f"seq {self.seq}" if self.seq is not None else "file"
        return f"{self.file}: {where}: {self.problem}"


@dataclass
class AuditReport:
    """The outcome of :func:`verify_audit`."""

    chains: int = 0
    records: int = 0
    seals: int = 0
    unsealed: dict[str, int] = field(default_factory=dict)
    problems: list[AuditProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "chains": self.chains, "records": self.records,
                "seals": self.seals, "unsealed": dict(self.unsealed),
                "problems": [str(p) for p in self.problems]}


def _parse_lines(path: Path) -> Iterator[tuple[int, dict[str, object] | None]]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle):
            try:
                value = json.loads(raw)
            except ValueError:
                yield number, None
                continue
            yield number, value if isinstance(value, dict) else None


def _verify_chain(path: Path, key: bytes,
                  heads: dict[str, dict[int, str]]) -> tuple[AuditProblem | None, int, int, int]:
    """Check one chain; returns (first problem, records, seals, unsealed events)."""
    return verify_records(path.name, path.name[: -len(_SUFFIX)], _parse_lines(path), key,
                          heads)


def verify_records(name: str, replica: str,
                   records: Iterable[tuple[int, dict[str, object] | None]], key: bytes,
                   heads: dict[str, dict[int, str]]) -> tuple[AuditProblem | None, int, int, int]:
    """Check one chain's records, in order (wherever they are stored: a file, a
    database table); returns (first problem, records, seals, unsealed events)
    and puts the chain's seal hashes by seq into ``heads[replica]``."""
    seal_hashes: dict[int, str] = {}
    heads[replica] = seal_hashes
    prev, every, since, seals, count = GENESIS, 0, 0, 0, 0

    def bad(seq: int | None, problem: str) -> tuple[AuditProblem, int, int, int]:
        return AuditProblem(name, seq, problem), count, seals, since

    for number, rec in records:
        if rec is None:
            return bad(number, "not a JSON record (line edited or torn)")
        seq = rec.get("seq")
        if seq != number:
            return bad(number, f"sequence number {seq!r} where {number} was expected "
                               "(record deleted, inserted or reordered)")
        if rec.get("replica") != replica:
            return bad(number, "record names another replica (moved between files)")
        if rec.get("prev") != prev:
            return bad(number, "prev does not match the previous record's hash "
                               "(record deleted, inserted or reordered)")
        if rec.get("hash") != _digest(rec):
            return bad(number, "hash does not match the record (record modified)")
        kind = rec.get("kind")
        if number == 0:
            declared = rec.get("seal_every")
            if kind != "open" or not isinstance(declared, int) or declared < 1:
                return bad(number, "the chain does not start with an open record")
            every = declared
        elif kind == "seal":
            expected = _mac(key, "seal", replica, number, prev)
            if not hmac.compare_digest(str(rec.get("mac", "")), expected):
                return bad(number, "seal HMAC mismatch (chain rewritten, or wrong key)")
            seals += 1
            since = 0
            seal_hashes[number] = str(rec["hash"])
        elif kind == "event":
            since += 1
            if since > every:
                return bad(number, f"more than {every} records since the last seal "
                                   "(seals removed)")
        else:
            return bad(number, f"unknown record kind {kind!r}")
        prev = str(rec["hash"])
        count += 1
    if count == 0:
        return bad(None, "empty chain (the open record is missing)")
    return None, count, seals, since


def verify_audit(folder: Path, seal_key: bytes) -> AuditReport:
    """Check every chain under ``folder``: hashes, order, seals, checkpoints, links.

    A chain whose tail after its last seal is unsealed (a process still
    running, or one that crashed) is reported in ``unsealed``, not as a
    problem: that tail is covered by the hash chain only.
    """
    report = AuditReport()
    folder = Path(folder)
    heads: dict[str, dict[int, str]] = {}
    opens: dict[str, list[object]] = {}
    for path in sorted(folder.glob(f"*{_SUFFIX}")):
        report.chains += 1
        problem, count, seals, since = _verify_chain(path, seal_key, heads)
        report.records += count
        report.seals += seals
        if problem is not None:
            report.problems.append(problem)
            continue
        if since:
            report.unsealed[path.name] = since
        first = next(_parse_lines(path))[1]
        assert first is not None
        links = first.get("links")
        opens[path.name] = links if isinstance(links, list) else []
    names = {p.name for p in folder.glob(f"*{_SUFFIX}")}
    for cp_path in sorted(folder.glob(f"*{_CHECKPOINT}")):
        checkpoint = _read_checkpoint(cp_path, seal_key)
        chain = cp_path.name[: -len(_CHECKPOINT)] + _SUFFIX
        if checkpoint is None:
            report.problems.append(AuditProblem(cp_path.name, None,
                                                "checkpoint HMAC mismatch or unreadable"))
            continue
        _check_sealed(report, names, heads, chain, checkpoint, "checkpoint")
    for name, links in sorted(opens.items()):
        for link in links:
            if isinstance(link, dict):
                _check_sealed(report, names, heads, str(link.get("replica")) + _SUFFIX,
                              link, f"linked from {name}")
    for name in sorted(names):
        replica = name[: -len(_SUFFIX)]
        if heads.get(replica) and not (folder / f"{replica}{_CHECKPOINT}").exists():
            report.problems.append(AuditProblem(name, None, "sealed chain without its "
                                                "checkpoint (checkpoint deleted)"))
    return report


def _check_sealed(report: AuditReport, names: set[str], heads: dict[str, dict[int, str]],
                  chain: str, ref: Mapping[str, object], source: str) -> None:
    seq = ref.get("seq")
    if chain not in names:
        report.problems.append(AuditProblem(chain, None, f"chain file missing ({source})"))
        return
    sealed = heads.get(chain[: -len(_SUFFIX)], {})
    if any(p.file == chain for p in report.problems):
        return  # already reported at its first bad record
    if not isinstance(seq, int) or sealed.get(seq) != ref.get("hash"):
        report.problems.append(AuditProblem(
            chain, seq if isinstance(seq, int) else None,
            f"seal recorded by the {source} is missing (tail truncated or rewritten)"))


def read_audit(folder: Path, since: datetime | None = None) -> list[dict[str, object]]:
    """Every parseable record of every chain under ``folder``, oldest first."""
    records: list[dict[str, object]] = []
    cutoff = since.astimezone(UTC).isoformat(timespec="microseconds") if since else None
    for path in sorted(Path(folder).glob(f"*{_SUFFIX}")):
        for _, rec in _parse_lines(path):
            if rec is None:
                continue
            if cutoff is None or str(rec.get("time", "")) >= cutoff:
                records.append(rec)
    records.sort(key=lambda r: (str(r.get("time", "")), str(r.get("replica", "")),
                                str(r.get("seq", "")).zfill(12)))
    return records
