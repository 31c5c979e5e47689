"""The audit trail: hash chain, seals, checkpoints, links, and what verify catches."""

from __future__ import annotations

import hashlib
import hmac
import json
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ragseal.store import Actor, AuditError, AuditLog, read_audit, verify_audit
from ragseal.store._audit import _digest

KEY = b"k" * 32
WHO = Actor(sub="alice@acme.example", tenant="acme")


def _write(folder: Path, events: int, *, replica: str = "r1", every: int = 5,
           close: bool = True) -> AuditLog:
    log = AuditLog(folder, KEY, replica=replica, seal_every=every)
    for i in range(events):
        log.record("retrieve", principal=WHO, chunk_ids=[f"c{i}"], returned=1,
                   policy="fp", query_hash=f"h{i}")
    if close:
        log.close()
    return log


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def _save(path: Path, records: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def _rechain(records: list[dict[str, object]]) -> list[dict[str, object]]:
    """What a forger without the seal key can do: renumber and re-hash consistently."""
    prev = "0" * 64
    for seq, rec in enumerate(records):
        rec["seq"], rec["prev"] = seq, prev
        rec["hash"] = _digest(rec)
        prev = str(rec["hash"])
    return records


def _first_problem(folder: Path, key: bytes = KEY) -> str:
    report = verify_audit(folder, key)
    assert not report.ok
    return str(report.problems[0])


def test_when_chain_written_and_closed_then_verify_passes(tmp_path: Path) -> None:
    log = _write(tmp_path, 12)
    records = _lines(log.path)
    assert [r["seq"] for r in records] == list(range(len(records)))
    assert records[0]["kind"] == "open" and records[-1]["kind"] == "seal"
    assert sum(r["kind"] == "seal" for r in records) == 3  # after 5, after 10, shutdown
    report = verify_audit(tmp_path, KEY)
    assert report.ok, report.problems
    assert report.chains == 1 and report.unsealed == {}
    assert records[1]["principal"] == {"sub": WHO.sub, "tenant": "acme"}


def test_when_files_created_then_mode_0600(tmp_path: Path) -> None:
    log = _write(tmp_path / "audit", 1)
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "audit" / "r1.seal").stat().st_mode) == 0o600


def test_when_field_modified_then_verify_names_the_record(tmp_path: Path) -> None:
    log = _write(tmp_path, 8)
    text = log.path.read_text().replace('"returned":1', '"returned":7', 1)
    log.path.write_text(text)
    assert "r1.jsonl: seq 1: hash does not match" in _first_problem(tmp_path)


def test_when_one_byte_edited_then_verify_fails(tmp_path: Path) -> None:
    log = _write(tmp_path, 3)
    data = bytearray(log.path.read_bytes())
    data[data.index(b"alice")] = ord("A")
    log.path.write_bytes(bytes(data))
    assert "seq 1" in _first_problem(tmp_path)


def test_when_modified_and_rehashed_consistently_then_seal_hmac_fails(tmp_path: Path) -> None:
    log = _write(tmp_path, 8)
    records = _lines(log.path)
    records[2]["returned"] = 99
    _save(log.path, _rechain(records))
    assert "r1.jsonl: seq 6: seal HMAC mismatch" in _first_problem(tmp_path)


def test_when_record_deleted_then_verify_fails(tmp_path: Path) -> None:
    log = _write(tmp_path, 8)
    records = _lines(log.path)
    del records[3]
    _save(log.path, records)
    assert "r1.jsonl: seq 3: sequence number 4" in _first_problem(tmp_path)


def test_when_record_deleted_and_rechained_then_verify_fails(tmp_path: Path) -> None:
    log = _write(tmp_path, 8)
    records = _lines(log.path)
    del records[3]
    _save(log.path, _rechain(records))
    assert "seal HMAC mismatch" in _first_problem(tmp_path)


def test_when_record_inserted_then_verify_fails(tmp_path: Path) -> None:
    log = _write(tmp_path, 8)
    records = _lines(log.path)
    records.insert(2, dict(records[1]))
    _save(log.path, records)
    assert "r1.jsonl: seq 2:" in _first_problem(tmp_path)


def test_when_records_reordered_then_verify_fails(tmp_path: Path) -> None:
    log = _write(tmp_path, 8)
    records = _lines(log.path)
    records[2], records[3] = records[3], records[2]
    _save(log.path, records)
    assert "r1.jsonl: seq 2: sequence number 3" in _first_problem(tmp_path)


def test_when_tail_truncated_through_a_seal_then_checkpoint_catches_it(tmp_path: Path) -> None:
    log = _write(tmp_path, 12)
    records = _lines(log.path)
    _save(log.path, records[:9])  # keeps the first seal (seq 6), drops the rest
    problem = _first_problem(tmp_path)
    assert "r1.jsonl" in problem and "missing (tail truncated" in problem


def test_when_seals_removed_and_rechained_then_seal_gap_is_caught(tmp_path: Path) -> None:
    log = _write(tmp_path, 12)
    records = [r for r in _lines(log.path) if r["kind"] != "seal"]
    _save(log.path, _rechain(records))
    (tmp_path / "r1.seal").unlink()
    assert "more than 5 records since the last seal" in _first_problem(tmp_path)


def test_when_whole_file_removed_then_later_chain_link_catches_it(tmp_path: Path) -> None:
    _write(tmp_path, 3, replica="r1")
    _write(tmp_path, 3, replica="r2")
    (tmp_path / "r1.jsonl").unlink()
    (tmp_path / "r1.seal").unlink()
    problem = _first_problem(tmp_path)
    assert "r1.jsonl: file: chain file missing (linked from r2.jsonl)" == problem


def test_when_checkpoint_deleted_then_verify_fails(tmp_path: Path) -> None:
    _write(tmp_path, 3)
    (tmp_path / "r1.seal").unlink()
    assert "checkpoint deleted" in _first_problem(tmp_path)


def test_when_wrong_seal_key_then_verify_fails(tmp_path: Path) -> None:
    _write(tmp_path, 3)
    assert "seal HMAC mismatch" in _first_problem(tmp_path, b"w" * 32)


def test_when_running_chain_then_unsealed_tail_is_reported_not_failed(tmp_path: Path) -> None:
    log = _write(tmp_path, 7, close=False)
    report = verify_audit(tmp_path, KEY)
    assert report.ok and report.unsealed == {"r1.jsonl": 2}
    log.close()


def test_when_threads_append_concurrently_then_chain_stays_valid(tmp_path: Path) -> None:
    log = AuditLog(tmp_path, KEY, replica="busy", seal_every=7)

    def work(n: int) -> None:
        for i in range(50):
            log.record("inspect", principal=WHO, verdict="allow", n=n * 1000 + i)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.close()
    report = verify_audit(tmp_path, KEY)
    assert report.ok, report.problems
    events = [r for r in _lines(log.path) if r["kind"] == "event"]
    assert len(events) == 400 and len({r["n"] for r in events}) == 400


def test_when_fields_hold_content_shapes_then_refused(tmp_path: Path) -> None:
    log = AuditLog(tmp_path, KEY, replica="r1")
    with pytest.raises(ValueError):
        log.record("retrieve", principal=WHO, query="x" * 500)
    with pytest.raises(ValueError):
        log.record("retrieve", principal=WHO, hash="forged")
    with pytest.raises(ValueError):
        log.record("Retrieve as text")
    log.close()


def test_when_canary_query_is_hashed_then_no_record_holds_it(tmp_path: Path) -> None:
    canary = "CANARY-QUERY-7f3e what is Maria's salary"
    token = "eyJhbGciOiJIUzI1NiJ9.CANARY-TOKEN.sig"  # noqa: S105 - a canary
    log = AuditLog(tmp_path, KEY, replica="r1")
    log.record("retrieve", principal=WHO,
               query_hash=hmac.new(KEY, canary.encode(), hashlib.sha256).hexdigest()[:16])
    log.record("auth_failed", reason="signature")
    log.close()
    text = log.path.read_text()
    assert "CANARY" not in text and canary not in text and token not in text
    assert "CANARY" not in repr(log)


def test_when_chain_closed_then_record_is_refused(tmp_path: Path) -> None:
    log = _write(tmp_path, 1)
    with pytest.raises(AuditError):
        log.record("retrieve", principal=WHO)


def test_when_folder_unusable_then_audit_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(AuditError):
        AuditLog(blocker / "audit", KEY)


def test_when_export_since_then_only_recent_records(tmp_path: Path) -> None:
    _write(tmp_path, 3, replica="a")
    _write(tmp_path, 2, replica="b")
    everything = read_audit(tmp_path)
    assert len(everything) == len(_lines(tmp_path / "a.jsonl")) + len(_lines(tmp_path / "b.jsonl"))
    assert read_audit(tmp_path, datetime.now(UTC) + timedelta(seconds=5)) == []
    times = [r["time"] for r in everything]
    assert times == sorted(times)


def test_when_a_seal_mac_is_made_then_it_is_the_one_existing_logs_hold() -> None:
    # Computed before the keyed-HMAC copies became one (ragseal._keyed, commit 545a5ad):
    # a change here would fail every existing log's verification.
    from ragseal.store._audit import _mac

    assert _mac(bytes(range(32)), "replica-1", 7, "abc") == (
        "92443c2110e5ea811a630c9a8a36062353cac531940f2b7e962347a942e2de8f")
