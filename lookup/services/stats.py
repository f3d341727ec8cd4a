"""Per-org, per-minute counts of the last hour, shared through the cache: the status page's data.

Each process adds up its counts in memory and adds them to the cache at most every
`FLUSH_SECONDS` (two round trips per counter then, none per request), so the page lags
a live instance by a few seconds and every instance's counts meet in one place.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from django.core.cache import cache

from lookup.services import store

FLUSH_SECONDS = 5.0
KEEP_MINUTES = 60
# Upper bounds (ms) of the upstream latency buckets; percentiles are read from them.
LATENCY_BOUNDS_MS = (25, 50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000, 30000)
FIELDS = ("calls", "failures", "cache_hits", "cache_misses") + tuple(
    f"ms_le_{bound}" for bound in LATENCY_BOUNDS_MS
)

_pending: dict[tuple[int, int, str], int] = {}
_lock = threading.Lock()
_last_flush = 0.0


def _key(org_id: int, minute: int, name: str) -> str:
    return f"{store.NAMESPACE}:stats:{org_id}:{minute}:{name}"


def count(org_id: int, name: str, n: int = 1) -> None:
    """Add `n` to this minute's counter `name` for the org."""
    at = store.now()
    slot = (org_id, int(at // 60), name)
    with _lock:
        _pending[slot] = _pending.get(slot, 0) + n
        due = at - _last_flush >= FLUSH_SECONDS
    if due:
        flush()


def record_call(org_id: int, seconds: float, failed: bool) -> None:
    """Count one upstream call, its latency bucket and whether it failed."""
    ms = seconds * 1000
    bound = next((b for b in LATENCY_BOUNDS_MS if ms <= b), LATENCY_BOUNDS_MS[-1])
    count(org_id, "calls")
    count(org_id, f"ms_le_{bound}")
    if failed:
        count(org_id, "failures")


def flush() -> None:
    """Add this process's pending counts to the shared counters."""
    global _last_flush
    with _lock:
        todo = dict(_pending)
        _pending.clear()
        _last_flush = store.now()
    for (org_id, minute, name), n in todo.items():
        key = _key(org_id, minute, name)
        try:
            cache.add(key, 0, timeout=(KEEP_MINUTES + 5) * 60)
            cache.incr(key, n)
        except ValueError:  # evicted between add and incr
            cache.set(key, n, timeout=(KEEP_MINUTES + 5) * 60)


def forget_pending() -> None:
    """Drop this process's unflushed counts (tests, after clearing the cache)."""
    with _lock:
        _pending.clear()


@dataclass(frozen=True)
class Hour:
    """One org's last hour: totals, per-minute calls and failures (oldest first)."""

    calls: int
    failures: int
    cache_hits: int
    cache_misses: int
    p50_ms: int | None
    p95_ms: int | None
    per_minute: list[tuple[int, int]]

    @property
    def error_rate(self) -> float | None:
        return self.failures / self.calls if self.calls else None

    @property
    def hit_ratio(self) -> float | None:
        asked = self.cache_hits + self.cache_misses
        return self.cache_hits / asked if asked else None


def _percentile(buckets: dict[int, int], fraction: float) -> int | None:
    total = sum(buckets.values())
    if not total:
        return None
    seen = 0
    for bound in LATENCY_BOUNDS_MS:
        seen += buckets.get(bound, 0)
        if seen >= fraction * total:
            return bound
    return LATENCY_BOUNDS_MS[-1]


def last_hour(org_id: int) -> Hour:
    """Return the org's counts of the last 60 minutes, this one included (one cache read)."""
    flush()
    now_minute = int(store.now() // 60)
    minutes = list(range(now_minute - KEEP_MINUTES + 1, now_minute + 1))
    keys = {_key(org_id, m, name): (m, name) for m in minutes for name in FIELDS}
    found = cache.get_many(list(keys))
    by: dict[tuple[int, str], int] = {keys[k]: int(v) for k, v in found.items()}

    def total(name: str) -> int:
        return sum(by.get((m, name), 0) for m in minutes)

    buckets = {bound: total(f"ms_le_{bound}") for bound in LATENCY_BOUNDS_MS}
    return Hour(
        calls=total("calls"),
        failures=total("failures"),
        cache_hits=total("cache_hits"),
        cache_misses=total("cache_misses"),
        p50_ms=_percentile(buckets, 0.5),
        p95_ms=_percentile(buckets, 0.95),
        per_minute=[(by.get((m, "calls"), 0), by.get((m, "failures"), 0)) for m in minutes],
    )
