"""Probing detection: a principal whose calls look like guessing is slowed down.

``/v1/inspect`` and ``/v1/retrieve`` give nothing away about values a
principal may not read (docs/THREATS.md), but someone trying is worth
knowing about, and slowing down: what it cannot learn today it might learn
from a bug tomorrow. Each call adds weighted *signals* to a per-principal
score that decays exponentially (half-life ``probe_half_life_seconds``):

=====================  ==============================================  ======
signal                 what                                            weight
=====================  ==============================================  ======
``blocked``            an inspect verdict ``block``                    1.0
``redacted``           an inspect verdict ``redact``                   0.5
``known_value``        an answer naming a person of the tenant the     1.0
                       principal may not read (keyed search tags)
``near_duplicate``     an answer or query equal to a recent one of     1.0
                       the same principal but for its values (digits,
                       capitalised words, detected entities)
``denied``             a 403, a 404 on a document, an invalid          1.0
                       retrieval id
=====================  ==============================================  ======

When the score reaches ``probe_threshold`` the principal is throttled: every
``/v1/retrieve`` and ``/v1/inspect`` is answered ``429 rate_limited`` with
``Retry-After`` for ``probe_penalty_seconds * 2**(strikes-1)`` seconds
(capped at ``probe_max_penalty_seconds``; a strike is forgotten after
``probe_forgive_seconds`` without one), an audit record
``probing_suspected`` is written (signal counts, no text) and the metric
``ragseal_probing_alerts_total`` counts it. ``probe_threshold = 0`` turns
detection off.

The counters are behind :class:`ProbeCounters`: :class:`MemoryProbeCounters`
keeps them in this process (like the rate limiter's buckets: per replica,
bounded, least recently used forgotten first); a shared store (PostgreSQL)
implements the same four methods. Skeletons of answers and queries are
keyed hashes (``IdHasher``): no text is kept.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from ragseal.retrieval import Principal

__all__ = [
    "SIGNAL_WEIGHTS",
    "Alert",
    "MemoryProbeCounters",
    "ProbeCounters",
    "ProbeGuard",
    "skeleton",
]

Key = tuple[str, str]

SIGNAL_WEIGHTS: dict[str, float] = {
    "blocked": 1.0,
    "redacted": 0.5,
    "known_value": 1.0,
    "near_duplicate": 1.0,
    "denied": 1.0,
}
_RECENT = 32  # skeletons remembered per principal
_MAX_PRINCIPALS = 100_000

# What a value looks like in a sentence: digits, capitalised words, e-mails.
_VALUE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\d[\d,.\-/ ]*\d|\d|\b[A-Z][\w'\u2019-]*")
_SPACE = re.compile(r"\s+")


def skeleton(text: str) -> str:
    """``text`` with every value-like run as ``#`` and spacing normalised:
    "salary is 98,000" and "salary is 120,000" have the same skeleton."""
    return _SPACE.sub(" ", _VALUE.sub("#", text)).strip().casefold()


@dataclass
class _State:
    score: float = 0.0
    stamp: float = 0.0
    strikes: int = 0
    last_strike: float = -math.inf
    until: float = 0.0
    signals: dict[str, int] = field(default_factory=dict)
    recent: deque[tuple[str, str, str]] = field(default_factory=lambda: deque(maxlen=_RECENT))


class ProbeCounters(Protocol):
    """Where the per-principal counters live (memory now, a database later)."""

    def add(self, key: Key, signals: dict[str, float], now: float, half_life: float
            ) -> tuple[float, dict[str, int]]:
        """Decay ``key``'s score to ``now``, add the signals' weights; the new
        score and the signal counts since the last strike."""
        ...

    def seen(self, key: Key, kind: str, skeleton_hash: str, text_hash: str) -> bool:
        """Remember one answer or query; True when a recent one of ``kind`` had
        the same skeleton but other text (a value was changed)."""
        ...

    def strike(self, key: Key, now: float, base: float, cap: float, forgive: float) -> float:
        """Throttle ``key``: reset its score, count a strike; the seconds of the penalty."""
        ...

    def throttled(self, key: Key, now: float) -> float:
        """Seconds ``key`` is still throttled for (0: not)."""
        ...


class MemoryProbeCounters:
    """:class:`ProbeCounters` in this process; thread-safe, bounded (LRU)."""

    def __init__(self, max_principals: int = _MAX_PRINCIPALS) -> None:
        self._max = max_principals
        self._lock = threading.Lock()
        self._states: OrderedDict[Key, _State] = OrderedDict()

    def __repr__(self) -> str:
        return f"MemoryProbeCounters(principals={len(self._states)})"

    def _state(self, key: Key) -> _State:
        state = self._states.pop(key, None) or _State()
        self._states[key] = state
        while len(self._states) > self._max:
            self._states.popitem(last=False)
        return state

    def add(self, key: Key, signals: dict[str, float], now: float, half_life: float
            ) -> tuple[float, dict[str, int]]:
        with self._lock:
            s = self._state(key)
            if s.stamp:
                s.score *= 0.5 ** (max(0.0, now - s.stamp) / half_life)
            s.stamp = now
            for name, weight in signals.items():
                s.score += weight
                s.signals[name] = s.signals.get(name, 0) + 1
            return s.score, dict(s.signals)

    def seen(self, key: Key, kind: str, skeleton_hash: str, text_hash: str) -> bool:
        with self._lock:
            s = self._state(key)
            near = any(k == kind and sk == skeleton_hash and t != text_hash
                       for k, sk, t in s.recent)
            s.recent.append((kind, skeleton_hash, text_hash))
            return near

    def strike(self, key: Key, now: float, base: float, cap: float, forgive: float) -> float:
        with self._lock:
            s = self._state(key)
            if now - s.last_strike > forgive:
                s.strikes = 0
            s.strikes += 1
            s.last_strike = now
            penalty = float(min(cap, base * 2.0 ** (s.strikes - 1)))
            s.until = now + penalty
            s.score = 0.0
            s.signals = {}
            return penalty

    def throttled(self, key: Key, now: float) -> float:
        with self._lock:
            s = self._states.get(key)
            return max(0.0, s.until - now) if s is not None else 0.0


@dataclass(frozen=True)
class Alert:
    """A principal crossed the threshold: what the audit record and metric carry."""

    score: float
    signals: dict[str, int]
    penalty_seconds: float
    strike_route: str


class ProbeGuard:
    """Scores principals' calls and throttles the ones that look like guessing.

    Args:
        threshold: score at which a principal is throttled; 0 disables.
        half_life: seconds for a score to halve.
        penalty / max_penalty / forgive: the throttle's first length, its
            cap, and how long without a strike resets the doubling.
        keyed_hash: hashes skeletons and texts (no text is kept).
        on_alert: called once per strike (audit record, metric).
        counters: where the counters live (default: this process).
        clock: monotonic seconds (tests pass a fake one).
    """

    def __init__(
        self,
        *,
        threshold: float,
        half_life: float,
        penalty: float,
        max_penalty: float,
        forgive: float,
        keyed_hash: Callable[[str], str],
        on_alert: Callable[[Principal, Alert], None],
        counters: ProbeCounters | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self._half_life = half_life
        self._penalty = penalty
        self._max_penalty = max_penalty
        self._forgive = forgive
        self._hash = keyed_hash
        self._on_alert = on_alert
        self._counters = counters if counters is not None else MemoryProbeCounters()
        self._clock = clock

    @property
    def enabled(self) -> bool:
        return self.threshold > 0

    def retry_after(self, principal: Principal) -> int | None:
        """Whole seconds ``principal`` must wait, or None when it may go on."""
        if not self.enabled:
            return None
        left = self._counters.throttled((principal.tenant, principal.sub), self._clock())
        return max(1, math.ceil(left)) if left > 0 else None

    def observe(self, principal: Principal, route: str, *, signals: tuple[str, ...] = (),
                text: tuple[str, str] | None = None) -> Alert | None:
        """Add one call's signals (and its answer or query, as ``(kind, text)``)."""
        if not self.enabled:
            return None
        key = (principal.tenant, principal.sub)
        weights = {s: SIGNAL_WEIGHTS[s] for s in signals}
        if text is not None:
            kind, value = text
            if self._counters.seen(key, kind, self._hash(skeleton(value)), self._hash(value)):
                weights["near_duplicate"] = SIGNAL_WEIGHTS["near_duplicate"]
        if not weights:
            return None
        now = self._clock()
        score, counts = self._counters.add(key, weights, now, self._half_life)
        if score < self.threshold:
            return None
        penalty = self._counters.strike(key, now, self._penalty, self._max_penalty,
                                        self._forgive)
        alert = Alert(round(score, 2), counts, penalty, route)
        self._on_alert(principal, alert)
        return alert
