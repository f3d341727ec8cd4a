"""Calling Capillary for an org: its client, rate limits, the breaker and bounded retries.

`call` makes one logical upstream call (with at most a few safe retries inside the
deadline) and gives the org's breaker one outcome for it. Breaker and rate-limit state
live in the shared cache, so every worker and instance sees them; the retry budget is
per process (each process keeping its retries within the ratio keeps the sum within it).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache

from lookup import metrics
from lookup.capillary import BasicAuth, CapillaryClient, CustomerQuery, OAuthAuth
from lookup.capillary.activity import ActivityQuery
from lookup.capillary.errors import (
    CapillaryError,
    InvalidResponse,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from lookup.lru import LRU
from lookup.models import Org
from lookup.services import breaker, stats, store
from lookup.services.breaker import CircuitOpen

logger = logging.getLogger("lookup.services")
T = TypeVar("T")
RETRY_STATUSES = frozenset({502, 503, 504, 521})
MAX_RATE_LIMIT_SECONDS = 3600.0

# -- the org's client ---------------------------------------------------------------------------

# One client (one connection pool) per org, rebuilt when the org's settings change.
_clients: LRU[int, tuple[object, CapillaryClient]] = LRU(256)


def client_for(org: Org) -> CapillaryClient:
    """Return the org's client; the only place a stored org becomes credentials."""
    stamp = (org.updated_at, org.base_url, org.auth_mode)
    known = _clients.get(org.pk)
    if known is not None and known[0] == stamp:
        return known[1]
    if org.auth_mode == Org.AuthMode.OAUTH:
        auth = OAuthAuth(org.oauth_key, org.oauth_secret())
    else:
        auth = BasicAuth(org.till_username, org.till_password())
    client = CapillaryClient(
        org.base_url,
        auth,
        connect_timeout=org.connect_timeout or settings.CAPILLARY_CONNECT_TIMEOUT,
        read_timeout=org.read_timeout or settings.CAPILLARY_READ_TIMEOUT,
        deadline=deadline(org),
    )
    _clients.put(org.pk, (stamp, client))
    if known is not None:
        known[1].close()
    return client


def forget_clients() -> None:
    """Close every pooled client (tests, and after credentials change)."""
    for _stamp, client in _clients.values():
        client.close()
    _clients.clear()


def deadline(org: Org) -> float:
    return org.deadline or settings.CAPILLARY_DEADLINE


# -- retries ------------------------------------------------------------------------------------


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
    spent), rate limits (Retry-After rules), an open circuit or an answer Capillary gave.
    """
    if not budget_ok or attempt > max_retries or attempt < 1:
        return None
    if isinstance(error, CircuitOpen | RateLimited | UpstreamTimeout):
        return None
    connection_failed = isinstance(error, UpstreamUnavailable) and error.upstream_status is None
    status = getattr(error, "upstream_status", None)
    if not (connection_failed or (isinstance(error, UpstreamError) and status in RETRY_STATUSES)):
        return None
    # "Equal jitter": half the backoff is fixed, half random, so retries never bunch at zero.
    backoff = min(cap, base * 2 ** (attempt - 1))
    return backoff / 2 + rng() * backoff / 2


class RetryBudget:
    """Allow retries only while they stay within a fraction of calls in a sliding window."""

    def __init__(self, ratio: float, window: int, minimum: int = 0, clock=store.now) -> None:
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


_budgets: LRU[int, RetryBudget] = LRU(256)


def budget_for(org_id: int) -> RetryBudget:
    return _budgets.get_or_make(
        org_id,
        lambda: RetryBudget(
            settings.RETRY_BUDGET_RATIO,
            settings.RETRY_BUDGET_WINDOW_SECONDS,
            settings.RETRY_BUDGET_MIN,
        ),
    )


def forget_budgets() -> None:
    _budgets.clear()


# -- rate limits (shared through the cache) -----------------------------------------------------


def _limited_key(org_id: int) -> str:
    return f"{store.NAMESPACE}:org:{org_id}:limited"


def _quota_key(org_id: int, at: float) -> str:
    return f"{store.NAMESPACE}:org:{org_id}:quota:{int(at // 60)}"


def limited_until(org_id: int) -> float | None:
    """Return until when Capillary asked us not to call for this org, or None."""
    until = cache.get(_limited_key(org_id))
    return until if until is not None and until > store.now() else None


def _rate_limited(org_id: int) -> RateLimited | None:
    until = limited_until(org_id)
    if until is None:
        return None
    return RateLimited(
        "Capillary is rate limiting this org; try again shortly.",
        retry_after=max(1, round(until - store.now())),
    )


def blocked(org_id: int) -> CapillaryError | None:
    """Return the error a call for this org would get now without calling, or None."""
    return _rate_limited(org_id) or breaker.blocked(org_id)


def take_quota(org_id: int, per_minute: int) -> None:
    """Count one call against the org's per-minute quota; raise RateLimited when it is spent.

    The count lives in the cache, so every worker and instance shares one quota, and a
    spent quota is answered like Capillary's own rate limit: from cache, or "wait".
    """
    if per_minute <= 0:
        return
    at = store.now()
    key = _quota_key(org_id, at)
    cache.add(key, 0, timeout=120)
    try:
        used = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=120)
        used = 1
    if used > per_minute:
        metrics.REFUSALS.labels("quota").inc()
        raise RateLimited(
            f"This org's quota of {per_minute} Capillary calls a minute is used up; "
            "try again shortly.",
            retry_after=max(1, round(60 - at % 60)),
        )


def quota_used(org_id: int) -> int:
    """Return how many calls the org made to Capillary this minute (for the ops page)."""
    return int(cache.get(_quota_key(org_id, store.now())) or 0)


def _remember_rate_limit(org_id: int, error: RateLimited) -> None:
    wait = error.retry_after or settings.RATE_LIMIT_DEFAULT_SECONDS
    wait = min(max(wait, 1.0), MAX_RATE_LIMIT_SECONDS)
    cache.set(_limited_key(org_id), store.now() + wait, timeout=int(wait) + 1)


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


# -- the call -----------------------------------------------------------------------------------


def call(
    org: Org,
    query: CustomerQuery | ActivityQuery,
    *,
    keep_lock: Callable[[], None] = lambda: None,
):
    """Call Capillary once for the query and return its CustomerResult (JsonResult for an
    activity query), or raise (see `run`)."""
    if isinstance(query, ActivityQuery):
        return run(
            org, query.customer_id, query.path, lambda client: client.get_activity(query), keep_lock
        )
    return run(
        org, query.customer_id, query.path, lambda client: client.get_customer(query), keep_lock
    )


def run(
    org: Org,
    subject: int | str,
    path: str,
    send: Callable[[CapillaryClient], T],
    keep_lock: Callable[[], None] = lambda: None,
) -> T:
    """Make one call to Capillary with the org's client (`send(client)`) and return its answer.

    `subject` names what the call is about for the breaker and the logs: the customer ID,
    or a word for lookups by identifier, whose value must not reach either.

    Breaker and rate limit first (raising without calling when the org is held back); then
    the call, retried only when that is safe and within the org's deadline and retry budget
    (`keep_lock` runs before each retry, to extend the part locks); then one outcome for
    the breaker, however many attempts it took.
    """
    probe = breaker.before_call(org.pk)
    try:
        limited = _rate_limited(org.pk)
        if limited is not None:
            metrics.REFUSALS.labels("capillary_rate_limit").inc()
            raise limited
        quota = org.calls_per_minute
        take_quota(org.pk, settings.CAPILLARY_CALLS_PER_MINUTE if quota is None else quota)
    except BaseException:
        breaker.release(org.pk, probe)  # no call made: another may probe
        raise
    budget = budget_for(org.pk)
    budget.record_call()
    client = client_for(org)
    started = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        try:
            result = send(client)
        except CapillaryError as exc:
            delay = should_retry(
                exc,
                attempt,
                budget.allows(),
                max_retries=settings.RETRY_MAX,
                base=settings.RETRY_BASE_SECONDS,
                cap=settings.RETRY_MAX_DELAY_SECONDS,
            )
            if delay is not None and time.monotonic() - started + delay < deadline(org):
                budget.record_retry()
                logger.info("retrying %s after %s in %.2f s", path, type(exc).__name__, delay)
                time.sleep(delay)
                keep_lock()
                continue
            # One outcome per call, after its retries.
            if breaker.record(org.pk, subject, exc, probe):
                metrics.BREAKER_OPENINGS.labels(org.slug).inc()
            _measure(org, started, type(exc).__name__, breaker.counts_as_failure(exc))
            if isinstance(exc, RateLimited):
                _remember_rate_limit(org.pk, exc)
            _log_failure(org, subject, path, exc, started)
            raise
        except BaseException as exc:
            breaker.record(org.pk, subject, exc, probe)  # no outcome: frees the probe
            raise
        breaker.record(org.pk, subject, None, probe)
        _measure(org, started, "ok", False)
        return result


def _measure(org: Org, started: float, outcome: str, failed: bool) -> None:
    """Count one call to Capillary for Prometheus and for the status page."""
    seconds = time.monotonic() - started
    metrics.UPSTREAM_CALLS.labels(org.slug, outcome).inc()
    metrics.UPSTREAM_SECONDS.labels(org.slug, outcome).observe(seconds)
    stats.record_call(org.pk, seconds, failed)


def _log_failure(
    org: Org, subject: int | str, path: str, error: CapillaryError, started: float
) -> None:
    """One line per failed call: what failed, where and how long it took (never a secret)."""
    fields = error.log_fields() if hasattr(error, "log_fields") else {}
    fields.setdefault("path", path)
    fields.setdefault("upstream_status", getattr(error, "upstream_status", None))
    fields.setdefault("elapsed_ms", round((time.monotonic() - started) * 1000, 1))
    reason = getattr(error, "reason", "") or type(error).__name__
    logger.warning(
        "Capillary call failed for org %s customer %s: %s (%s, HTTP %s, %.0f ms)",
        org.slug,
        subject,
        reason,
        fields["path"],
        fields["upstream_status"] or "-",
        fields["elapsed_ms"] or 0,
        extra={
            "org": org.slug,
            "customer_id": subject,
            "failure": reason,
            **{f"capillary_{k}": v for k, v in fields.items()},
        },
    )
