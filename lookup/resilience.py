"""How the dashboard treats a slow or failing Capillary: retries, a retry budget, rate limits
and quotas (the circuit breaker per org is lookup.breaker).

The retry decision is a pure function. Rate-limit and quota state live in the cache, so
every worker and every instance sharing Redis sees the same state; the retry budget is per
process (each process keeping its own retries within the ratio keeps the sum within it too).
"""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from lookup import breaker
from lookup import cache as entries
from lookup.breaker import CircuitOpen
from lookup.capillary.errors import (
    CapillaryError,
    InvalidResponse,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)

RETRY_STATUSES = frozenset({502, 503, 504, 521})
MAX_RATE_LIMIT_SECONDS = 3600.0


def should_retry(
    error: BaseException,
    attempt: int,
    budget_ok: bool,
    *,
    max_retries: int = 2,
    base: float = 0.1,
    cap: float = 2.0,
    rng: Callable[[], float] = random.random,
) -> float | None:
    """Return the delay before retrying after failed attempt number `attempt` (1, 2...), or None.

    Only failures where a second GET is safe and may help are retried: no answer at all
    (connection refused or reset) and 502, 503, 504, 521. Never timeouts (the deadline is
    spent), rate limits (Retry-After rules) or an open circuit.
    """
    if not budget_ok or attempt > max_retries or attempt < 1:
        return None
    if isinstance(error, CircuitOpen | RateLimited | UpstreamTimeout):
        return None
    connection_failed = isinstance(error, UpstreamUnavailable) and error.upstream_status is None
    status = getattr(error, "upstream_status", None)
    if not (connection_failed or (isinstance(error, CapillaryError) and status in RETRY_STATUSES)):
        return None
    # "Equal jitter": half the backoff is fixed, half random, so retries never bunch at zero.
    backoff = min(cap, base * 2 ** (attempt - 1))
    return backoff / 2 + rng() * backoff / 2


class RetryBudget:
    """Allow retries only while they stay within a fraction of calls in a sliding window."""

    def __init__(self, ratio: float, window: int, minimum: int = 0, clock=entries.now) -> None:
        self.ratio, self.window, self.minimum, self.clock = ratio, window, minimum, clock
        self._buckets: deque[list[int]] = deque()  # [second, calls, retries]
        self._lock = threading.Lock()

    def _bucket(self) -> list[int]:
        second = int(self.clock())
        while self._buckets and self._buckets[0][0] <= second - self.window:
            self._buckets.popleft()
        if not self._buckets or self._buckets[-1][0] != second:
            self._buckets.append([second, 0, 0])
        return self._buckets[-1]

    def counts(self) -> tuple[int, int]:
        """Return (calls, retries) in the window."""
        with self._lock:
            self._bucket()
            return sum(b[1] for b in self._buckets), sum(b[2] for b in self._buckets)

    def record_call(self) -> None:
        with self._lock:
            self._bucket()[1] += 1

    def allows(self) -> bool:
        """Return whether one more retry would stay within the budget."""
        calls, retries = self.counts()
        return retries + 1 <= max(self.minimum, self.ratio * calls)

    def record_retry(self) -> None:
        with self._lock:
            self._bucket()[2] += 1


_budgets: dict[int, RetryBudget] = {}
_budgets_lock = threading.Lock()


def budget_for(org_id: int) -> RetryBudget:
    with _budgets_lock:
        budget = _budgets.get(org_id)
        if budget is None:
            budget = _budgets[org_id] = RetryBudget(
                settings.RETRY_BUDGET_RATIO,
                settings.RETRY_BUDGET_WINDOW_SECONDS,
                settings.RETRY_BUDGET_MIN,
            )
        return budget


def forget_budgets() -> None:
    with _budgets_lock:
        _budgets.clear()


# -- rate limit and quota (shared through the cache) --------------------------------------------


def _limited_key(org_id: int) -> str:
    return f"{entries.NAMESPACE}:org:{org_id}:limited"


@dataclass(frozen=True)
class OrgState:
    """What the cache says about Capillary's rate limit for one org right now."""

    limited_until: float | None


def org_state(org_id: int) -> OrgState:
    limited_until = cache.get(_limited_key(org_id))
    if limited_until is not None and limited_until <= entries.now():
        limited_until = None
    return OrgState(limited_until)


def blocked(org_id: int, state: OrgState | None = None) -> CapillaryError | None:
    """Return the error a call for this org would get now without calling, or None."""
    state = state or org_state(org_id)
    if state.limited_until is not None:
        return RateLimited(
            "Capillary is rate limiting this org; try again shortly.",
            retry_after=max(1, round(state.limited_until - entries.now())),
        )
    return breaker.blocked(org_id)


def take_quota(org_id: int, per_minute: int) -> None:
    """Count one call against the org's per-minute quota; raise RateLimited when it is spent.

    The count lives in the cache, so every worker and instance shares one quota, and a
    spent quota is answered like Capillary's own rate limit: from cache, or "wait".
    """
    if per_minute <= 0:
        return
    at = entries.now()
    key = f"{entries.NAMESPACE}:org:{org_id}:quota:{int(at // 60)}"
    cache.add(key, 0, timeout=120)
    try:
        used = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=120)
        used = 1
    if used > per_minute:
        raise RateLimited(
            f"This org's quota of {per_minute} Capillary calls a minute is used up; "
            "try again shortly.",
            retry_after=max(1, round(60 - at % 60)),
        )


def quota_used(org_id: int) -> int:
    """Return how many calls the org made to Capillary this minute (for the ops page)."""
    key = f"{entries.NAMESPACE}:org:{org_id}:quota:{int(entries.now() // 60)}"
    return int(cache.get(key) or 0)


def before_call(org_id: int, per_minute: int = 0, state: OrgState | None = None) -> None:
    """Raise RateLimited (without calling Capillary) when the org is held back or over quota.

    `state` is a reading the caller just made for several calls at once (one page's parts);
    without it the cache is read. The breaker is checked apart (lookup.breaker).
    """
    state = state or org_state(org_id)
    if state.limited_until is not None:
        raise blocked(org_id, state)
    take_quota(org_id, per_minute)


def remember_rate_limit(org_id: int, error: CapillaryError) -> None:
    """Hold the org back after Capillary rate limited it, until its Retry-After."""
    if isinstance(error, RateLimited):
        wait = error.retry_after or settings.RATE_LIMIT_DEFAULT_SECONDS
        wait = min(max(wait, 1.0), MAX_RATE_LIMIT_SECONDS)
        cache.set(_limited_key(org_id), entries.now() + wait, timeout=int(wait) + 1)


def reset(org_id: int) -> None:
    """Close the breaker and forget any rate limit (tests and the ops page)."""
    cache.delete(_limited_key(org_id))
    breaker.reset(org_id)


def stale_reason(error: BaseException) -> str:
    """Return the few words a stale banner uses to say why the copy is not fresh."""
    if isinstance(error, CircuitOpen):
        return "We paused calls to Capillary for this org"
    if isinstance(error, RateLimited):
        return "Capillary is rate limiting this org"
    if isinstance(error, UpstreamTimeout):
        return "Capillary timed out"
    if isinstance(error, UpstreamUnavailable):
        return "Capillary could not be reached"
    if isinstance(error, InvalidResponse):
        return "Capillary sent an unreadable answer"
    status = getattr(error, "upstream_status", None)
    return f"Capillary failed (HTTP {status})" if status else "Capillary failed"


def serves_stale(error: BaseException) -> bool:
    """Return whether a failure may be answered with the last good copy."""
    return isinstance(error, UpstreamError | RateLimited)
