"""How the dashboard treats a slow or failing Capillary: retries, a retry budget, rate limits
and a circuit breaker per org.

The retry decision is a pure function. Breaker and rate-limit state live in the cache, so
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

from lookup import cache as entries
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


class CircuitOpen(UpstreamError):
    """Capillary failed repeatedly for this org, so it is not being called for a while."""

    status = 503
    title = "Capillary is failing"
    default_message = "Capillary is failing for this org; try again shortly."
    retryable = False

    def __init__(self, seconds: float, **kwargs) -> None:
        wait = max(1, round(seconds))
        super().__init__(
            f"Capillary is failing for this org; not calling it for {wait} s",
            retry_after=wait,
            **kwargs,
        )


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


# -- breaker and rate limit (shared through the cache) ------------------------------------------


def _keys(org_id: int) -> tuple[str, str, str, str]:
    base = f"{entries.NAMESPACE}:org:{org_id}"
    return f"{base}:limited", f"{base}:open-until", f"{base}:fails", f"{base}:probe"


@dataclass(frozen=True)
class OrgState:
    """What the cache says about calling Capillary for one org right now."""

    limited_until: float | None
    open_until: float | None
    failures: int
    probing: bool = False

    @property
    def breaker(self) -> str:
        if self.open_until is None:
            return "closed"
        return "open" if entries.now() < self.open_until else "half-open"


def org_state(org_id: int) -> OrgState:
    limited, open_key, fails, probe = _keys(org_id)
    found = cache.get_many([limited, open_key, fails, entries.lock_key(probe)])
    limited_until = found.get(limited)
    if limited_until is not None and limited_until <= entries.now():
        limited_until = None
    return OrgState(
        limited_until,
        found.get(open_key),
        int(found.get(fails) or 0),
        entries.lock_key(probe) in found,
    )


def blocked(org_id: int, state: OrgState | None = None) -> CapillaryError | None:
    """Return the error a call for this org would get now without calling, or None."""
    state = state or org_state(org_id)
    at = entries.now()
    if state.limited_until is not None:
        return RateLimited(
            "Capillary is rate limiting this org; try again shortly.",
            retry_after=max(1, round(state.limited_until - at)),
        )
    if state.breaker == "open":
        return CircuitOpen(state.open_until - at)
    return None


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


def before_call(
    org_id: int, probe_ttl: float, per_minute: int = 0, state: OrgState | None = None
) -> tuple[OrgState, str | None]:
    """Return the org's state and a probe token when this call is the half-open probe.

    `state` is a reading the caller just made for several calls at once (one page's parts);
    without it the cache is read. Raises RateLimited or CircuitOpen (without calling
    Capillary) when the org is held back or its per-minute quota is spent.
    """
    state = state or org_state(org_id)
    error = blocked(org_id, state)
    if error is not None:
        raise error
    take_quota(org_id, per_minute)
    if state.breaker == "half-open":
        token = entries.acquire(_keys(org_id)[3], probe_ttl)
        if token is None:
            # Someone else is probing; until it answers the circuit stays open.
            raise CircuitOpen(settings.BREAKER_COOLDOWN_SECONDS / 10)
        return state, token
    return state, None


def record_success(org_id: int, state: OrgState, probe: str | None) -> None:
    _limited, open_key, fails, probe_key = _keys(org_id)
    if probe is not None:
        cache.delete_many([open_key, fails])
        entries.release(probe_key, probe)
    elif state.failures:
        cache.delete(fails)


def record_failure(org_id: int, error: CapillaryError, probe: str | None) -> None:
    """Count a failed call toward the breaker, and remember a rate limit."""
    limited, open_key, fails, probe_key = _keys(org_id)
    if isinstance(error, RateLimited):
        wait = error.retry_after or settings.RATE_LIMIT_DEFAULT_SECONDS
        wait = min(max(wait, 1.0), MAX_RATE_LIMIT_SECONDS)
        cache.set(limited, entries.now() + wait, timeout=int(wait) + 1)
    if not isinstance(error, UpstreamError):
        # Answers such as "not found" or a rate limit mean Capillary itself is working.
        if probe is not None:
            record_success(org_id, OrgState(None, None, 1), probe)
        return
    until = entries.now() + settings.BREAKER_COOLDOWN_SECONDS
    if probe is not None:
        cache.set(open_key, until, timeout=None)
        entries.release(probe_key, probe)
        return
    cache.add(fails, 0, timeout=None)
    try:
        count = cache.incr(fails)
    except ValueError:  # evicted between add and incr
        count = 1
        cache.set(fails, 1, timeout=None)
    if count >= settings.BREAKER_FAILURES:
        cache.add(open_key, until, timeout=None)


def reset(org_id: int) -> None:
    """Close the breaker and forget any rate limit (tests and the ops page)."""
    keys = _keys(org_id)
    cache.delete_many([*keys[:3], entries.lock_key(keys[3])])


def stale_reason(error: BaseException) -> str:
    """Return the few words a stale banner uses to say why the copy is not fresh."""
    if isinstance(error, CircuitOpen):
        return "Capillary is failing for this org"
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
