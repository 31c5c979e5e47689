"""Tenant freezes: durable, shared between processes, cached briefly, fail closed."""

from __future__ import annotations

import stat
from pathlib import Path

from ragseal.store._freeze import REFRESH_SECONDS, TenantFreezes


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_when_one_process_freezes_then_another_sees_it_within_the_refresh(
    tmp_path: Path,
) -> None:
    clock = Clock()
    server, operator = TenantFreezes(tmp_path, clock=clock), TenantFreezes(tmp_path)
    assert not server.is_frozen("acme")
    assert operator.set("acme", True, actor="cli:ops", reason="incident")
    assert not operator.set("acme", True, actor="cli:ops")  # already frozen: no new row
    assert not server.is_frozen("acme")  # cached
    clock.now += REFRESH_SECONDS
    assert server.is_frozen("acme") and not server.is_frozen("globex")
    assert operator.set("acme", False, actor="cli:ops", reason="resolved")
    clock.now += REFRESH_SECONDS
    assert not server.is_frozen("acme")
    assert [(e.tenant, e.frozen, e.reason) for e in operator.history()] == [
        ("acme", True, "incident"), ("acme", False, "resolved")]
    assert stat.S_IMODE((tmp_path / "freezes.db").stat().st_mode) == 0o600
    server.close()
    operator.close()


def test_when_the_state_is_unreadable_then_every_tenant_reads_as_frozen(tmp_path: Path) -> None:
    (tmp_path / "freezes.db").write_bytes(b"not a database" * 100)
    assert TenantFreezes(tmp_path).is_frozen("acme")
