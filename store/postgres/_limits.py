"""Rate limits and probing counters shared by every replica (PostgreSQL).

:class:`PgRateLimiter` is the API's token bucket per principal
(``api/_limits.py``: ``RAGSEAL_RATE_LIMIT_PER_MINUTE`` tokens, refilled
continuously) with the bucket in ``ragseal_rate_limits``: one upsert per
request takes a token under the row's lock, so N replicas together allow a
principal the rate once, not N times. :class:`PgProbeCounters` is
``api/_probing.py``'s :class:`ProbeCounters` in ``ragseal_probe_counters``
and ``ragseal_probe_recent`` (the last 32 keyed skeleton hashes of each
principal; no text).

Times are wall-clock seconds (``time.time``), since they are compared across
processes and hosts; a replica whose clock lags never moves a bucket back
(``GREATEST``). An unreachable database raises
:class:`~ragseal.store.postgres.ControlPlaneUnavailable`: the API answers 503,
never lets the request through unlimited.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from ._db import Database

__all__ = ["PgProbeCounters", "PgRateLimiter"]

Key = tuple[str, str]
_RECENT = 32

_TAKE = """
INSERT INTO ragseal_rate_limits AS b (tenant, sub, tokens, stamp, allowed)
VALUES (%(tenant)s, %(sub)s, %(cap)s - 1, %(now)s, TRUE)
ON CONFLICT (tenant, sub) DO UPDATE SET
    tokens = CASE WHEN LEAST(%(cap)s, b.tokens + GREATEST(0, %(now)s - b.stamp) * %(rate)s) >= 1
             THEN LEAST(%(cap)s, b.tokens + GREATEST(0, %(now)s - b.stamp) * %(rate)s) - 1
             ELSE LEAST(%(cap)s, b.tokens + GREATEST(0, %(now)s - b.stamp) * %(rate)s) END,
    allowed = LEAST(%(cap)s, b.tokens + GREATEST(0, %(now)s - b.stamp) * %(rate)s) >= 1,
    stamp = GREATEST(b.stamp, %(now)s)
RETURNING tokens, allowed
"""


_SEEN = """
WITH recent AS (
    SELECT id, kind, skeleton, text_hash FROM ragseal_probe_recent
    WHERE tenant = %(tenant)s AND sub = %(sub)s ORDER BY id DESC LIMIT %(recent)s),
added AS (
    INSERT INTO ragseal_probe_recent (tenant, sub, kind, skeleton, text_hash)
    VALUES (%(tenant)s, %(sub)s, %(kind)s, %(skeleton)s, %(text)s) RETURNING id),
dropped AS (
    DELETE FROM ragseal_probe_recent WHERE tenant = %(tenant)s AND sub = %(sub)s
    AND id < (SELECT COALESCE(MIN(id), 0) FROM recent)
    AND (SELECT COUNT(*) FROM recent) >= %(recent)s)
SELECT EXISTS (SELECT 1 FROM recent WHERE kind = %(kind)s AND skeleton = %(skeleton)s
               AND text_hash <> %(text)s)
"""


class PgRateLimiter:
    """The API's rate limiter (``acquire``/``enabled``) with buckets in the database.

    Args:
        db: the control-plane database.
        per_minute: requests a principal may make per minute, all replicas
            together; 0 disables.
        clock: wall-clock seconds (tests pass a fake one).
    """

    def __init__(self, db: Database, per_minute: int, *,
                 clock: Callable[[], float] = time.time) -> None:
        if per_minute < 0:
            raise ValueError("per_minute must be >= 0")
        self._db = db
        self.per_minute = per_minute
        self._rate = per_minute / 60.0
        self._clock = clock

    def __repr__(self) -> str:
        return f"PgRateLimiter(per_minute={self.per_minute})"

    @property
    def enabled(self) -> bool:
        return self.per_minute > 0

    def acquire(self, key: Key) -> float | None:
        """Take one token for ``key``: None when allowed, else seconds to wait."""
        if not self.enabled:
            return None
        with self._db.statement() as conn:  # one atomic upsert
            row = conn.execute(_TAKE, {"tenant": key[0], "sub": key[1],
                                       "cap": float(self.per_minute), "rate": self._rate,
                                       "now": self._clock()}).fetchone()
        assert row is not None
        tokens, allowed = float(row[0]), bool(row[1])
        return None if allowed else (1.0 - tokens) / self._rate


class PgProbeCounters:
    """``api/_probing.py``'s ``ProbeCounters`` in the database (shared by replicas)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def __repr__(self) -> str:
        return "PgProbeCounters()"

    _ROW = ("INSERT INTO ragseal_probe_counters (tenant, sub) VALUES (%s, %s)"
            " ON CONFLICT (tenant, sub) DO NOTHING")
    _LOCKED = ("SELECT score, stamp, strikes, last_strike, until, signals"
               " FROM ragseal_probe_counters WHERE tenant = %s AND sub = %s FOR UPDATE")

    def add(self, key: Key, signals: dict[str, float], now: float, half_life: float
            ) -> tuple[float, dict[str, int]]:
        with self._db.transaction() as conn:
            conn.execute(self._ROW, key)
            row = conn.execute(self._LOCKED, key).fetchone()
            assert row is not None
            score, stamp = float(row[0]), float(row[1])
            counts: dict[str, int] = {str(k): int(v) for k, v in dict(row[5]).items()}
            if stamp:
                score *= 0.5 ** (max(0.0, now - stamp) / half_life)
            for name, weight in signals.items():
                score += weight
                counts[name] = counts.get(name, 0) + 1
            conn.execute("UPDATE ragseal_probe_counters SET score = %s, stamp = %s,"
                         " signals = %s::jsonb WHERE tenant = %s AND sub = %s",
                         (score, max(stamp, now), json.dumps(counts), *key))
        return score, counts

    def seen(self, key: Key, kind: str, skeleton_hash: str, text_hash: str) -> bool:
        # One statement (one round trip, atomic): the check sees the rows before
        # this insert, and the delete keeps the newest _RECENT of them.
        with self._db.statement() as conn:
            row = conn.execute(_SEEN, {"tenant": key[0], "sub": key[1], "kind": kind,
                                       "skeleton": skeleton_hash, "text": text_hash,
                                       "recent": _RECENT}).fetchone()
        return bool(row[0]) if row else False

    def strike(self, key: Key, now: float, base: float, cap: float, forgive: float) -> float:
        with self._db.transaction() as conn:
            conn.execute(self._ROW, key)
            row = conn.execute(self._LOCKED, key).fetchone()
            assert row is not None
            strikes, last_strike = int(row[2]), float(row[3])
            if now - last_strike > forgive:
                strikes = 0
            strikes += 1
            penalty = float(min(cap, base * 2.0 ** (strikes - 1)))
            conn.execute("UPDATE ragseal_probe_counters SET strikes = %s, last_strike = %s,"
                         " until = GREATEST(until, %s), score = 0, signals = '{}'"
                         " WHERE tenant = %s AND sub = %s",
                         (strikes, now, now + penalty, *key))
        return penalty

    def throttled(self, key: Key, now: float) -> float:
        with self._db.statement() as conn:
            row = conn.execute("SELECT until FROM ragseal_probe_counters"
                               " WHERE tenant = %s AND sub = %s", key).fetchone()
        return max(0.0, float(row[0]) - now) if row is not None else 0.0


