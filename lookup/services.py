"""The service layer: the only thing views call to reach Capillary.

It reads settings at call time and owns the cache (lookup.cache), the resilience rules
(lookup.resilience) and the breaker (lookup.breaker); the upstream call itself,
single-flight and the org's client (the only place stored orgs become credentials) are in
lookup.flight.

A lookup is answered, in order: from a fresh cached copy; from a usable stale copy while
one background refresh runs; by joining a fetch already in flight for the same key (in
this thread's process, or in any process sharing the cache); by one upstream call. When
that call fails the way a slow or broken Capillary fails, the last good copy is served,
marked stale with the reason.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core.cache import cache as django_cache

from lookup import cache, flight, resilience
from lookup.capillary import CapillaryError, CustomerQuery
from lookup.flight import CustomerData, client_for, forget_clients, from_entry
from lookup.models import Org

__all__ = [
    "CustomerData",
    "allow_refresh",
    "client_for",
    "fetch_customer",
    "fetch_many",
    "forget_clients",
    "in_cache",
    "test_org",
    "wait_for_refreshes",
]
logger = logging.getLogger("lookup.services")


def fetch_customer(org: Org, query: CustomerQuery, *, refresh: bool = False) -> CustomerData:
    """Return the customer for this query, from the cache when it is fresh enough.

    Raises a lookup.capillary.errors.CapillaryError subclass (or breaker.CircuitOpen)
    when Capillary fails and no usable copy exists; failures are never cached.
    """
    result = fetch_many(org, [query], refresh=refresh)[query]
    if isinstance(result, CapillaryError):
        raise result
    return result


# Several parts of one page are fetched at once: one round trip, not several.
_part_pool = ThreadPoolExecutor(
    max_workers=settings.CAPILLARY_PART_WORKERS, thread_name_prefix="capillary-part"
)


def fetch_many(
    org: Org, queries: Iterable[CustomerQuery], *, refresh: bool = False
) -> dict[CustomerQuery, CustomerData | CapillaryError]:
    """Return each query's data (or its error); cached ones at once, the rest concurrently.

    `refresh` skips freshness (not single-flight: a refresh joins a fetch in flight).
    """
    unique = list(dict.fromkeys(queries))
    found = cache.read_many(org.pk, unique) if unique else {}
    results: dict[CustomerQuery, CustomerData | CapillaryError] = {}
    misses = []
    for query in unique:
        entry, generation = found[query]
        served = None if refresh else _from_copy(org, query, entry)
        if served is not None:
            results[query] = served
        else:
            misses.append((query, entry, generation))
    # Each worker runs in a copy of this request's context, so its log lines keep the
    # request and customer IDs.
    # One reading of the org's rate-limit state serves all of the page's calls.
    state = resilience.org_state(org.pk) if misses else None
    futures = [
        (m[0], _part_pool.submit(contextvars.copy_context().run, _load_or_error, org, *m, state))
        for m in misses[1:]
    ]
    if misses:
        results[misses[0][0]] = _load_or_error(org, *misses[0], state)
    for query, future in futures:
        results[query] = future.result()
    return {query: results[query] for query in unique}


def in_cache(org: Org, queries: Iterable[CustomerQuery]) -> set[CustomerQuery]:
    """Return which of the queries have a usable cached answer (one cache round trip)."""
    found = cache.read_many(org.pk, list(queries))
    now = cache.now()
    return {q for q, (entry, _gen) in found.items() if entry is not None and entry.is_usable(now)}


def _from_copy(org: Org, query: CustomerQuery, entry: cache.Entry | None) -> CustomerData | None:
    """Serve a fresh copy, or a usable stale one (refreshing it in the background)."""
    if entry is None:
        return None
    at = cache.now()
    key = cache.entry_key(org.pk, query)
    if entry.is_fresh(at):
        return from_entry(key, entry, from_cache=True)
    if not entry.is_usable(at):
        return None
    held_back = resilience.blocked(org.pk)
    reason = resilience.stale_reason(held_back) if held_back else cache.failed_refresh(key, entry)
    if reason:
        return from_entry(key, entry, from_cache=True, stale=True, stale_reason=reason)
    _revalidate_later(org, query, entry)
    return from_entry(key, entry, from_cache=True, revalidating=True)


def _load_or_error(
    org: Org,
    query: CustomerQuery,
    copy: cache.Entry | None,
    generation: str,
    state: resilience.OrgState | None = None,
) -> CustomerData | CapillaryError:
    """Fetch through single-flight; on a Capillary failure fall back to a usable copy."""
    try:
        return flight.single_flight(org, query, generation, copy, wait=True, state=state)
    except CapillaryError as exc:
        if copy is not None and copy.is_usable(cache.now()) and resilience.serves_stale(exc):
            key = cache.entry_key(org.pk, query)
            reason = resilience.stale_reason(exc)
            return from_entry(key, copy, from_cache=True, stale=True, stale_reason=reason)
        return exc


_refresh_pool: ThreadPoolExecutor | None = None
_refreshing: set[str] = set()
_refresh_lock = threading.Lock()
MAX_PENDING_REFRESHES = 64


def _revalidate_later(org: Org, query: CustomerQuery, copy: cache.Entry) -> None:
    """Refresh a stale copy in the background: bounded, and once per key."""
    global _refresh_pool
    key = cache.entry_key(org.pk, query)
    with _refresh_lock:
        if key in _refreshing or len(_refreshing) >= MAX_PENDING_REFRESHES:
            return
        _refreshing.add(key)
        if _refresh_pool is None:
            _refresh_pool = ThreadPoolExecutor(
                max_workers=settings.CACHE_REFRESH_WORKERS, thread_name_prefix="cache-refresh"
            )
    _refresh_pool.submit(contextvars.copy_context().run, _revalidate, org, query, key, copy)


def _revalidate(org: Org, query: CustomerQuery, key: str, copy: cache.Entry) -> None:
    try:
        if not cache.is_locked(key):
            flight.single_flight(org, query, copy.generation, copy, wait=False)
    except CapillaryError as exc:
        logger.info("background refresh of %s failed: %s", query.path, type(exc).__name__)
        if resilience.serves_stale(exc):
            cache.mark_failed_refresh(key, copy, resilience.stale_reason(exc))
    except Exception:
        logger.exception("background refresh of %s crashed", query.path)
    finally:
        with _refresh_lock:
            _refreshing.discard(key)


def wait_for_refreshes(timeout: float = 10.0) -> bool:
    """Wait until no background refresh is pending (tests, the benchmark); return if none is."""
    give_up = time.monotonic() + timeout
    while _refreshing and time.monotonic() < give_up:
        time.sleep(0.01)
    return not _refreshing


def allow_refresh(user_id: int, org: Org, customer_id: int) -> bool:
    """Return whether this user may bypass the cache now (REFRESH_LIMIT per window)."""
    window = settings.REFRESH_WINDOW_SECONDS
    slot = int(cache.now() // window)
    key = f"{cache.NAMESPACE}:refresh:{user_id}:{slot}"
    django_cache.add(key, 0, timeout=window + 1)
    try:
        used = django_cache.incr(key)
    except ValueError:  # evicted between add and incr
        django_cache.set(key, 1, timeout=window + 1)
        used = 1
    return used <= settings.REFRESH_LIMIT


def test_org(org: Org, customer_id: int = 1) -> tuple[bool, str]:
    """Make one authenticated call for the org; return (ok, what happened)."""
    from lookup.capillary.errors import CustomerNotFound

    try:
        fetch_customer(
            org, CustomerQuery(customer_id=customer_id, source=org.default_source), refresh=True
        )
    except CustomerNotFound:
        return True, "Credentials accepted (the probe customer does not exist, which is fine)."
    except Exception as exc:  # noqa: BLE001 - reported to the operator, not raised
        return False, getattr(exc, "message", None) or exc.__class__.__name__
    return True, "Credentials accepted."
