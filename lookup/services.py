"""The service layer: the only thing views call to reach Capillary.

It reads settings at call time, keeps one client (one connection pool) per org, owns the
cache (lookup.cache) and the resilience rules (lookup.resilience), and turns stored orgs
into credentials without letting them out of this module.

A lookup is answered, in order: from a fresh cached copy; from a usable stale copy while
one background refresh runs; by joining a fetch already in flight for the same key (in
this thread's process, or in any process sharing the cache); by one upstream call. When
that call fails the way a slow or broken Capillary fails, the last good copy is served,
marked stale with the reason.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache as django_cache

from lookup import cache, resilience
from lookup.capillary import (
    BasicAuth,
    CapillaryClient,
    CapillaryError,
    CustomerQuery,
    OAuthAuth,
    records,
)
from lookup.capillary.errors import CustomerDeleted, UpstreamTimeout
from lookup.models import Org

logger = logging.getLogger("lookup.services")
_clients: dict[int, tuple[object, CapillaryClient]] = {}
_clients_lock = threading.Lock()


def client_for(org: Org) -> CapillaryClient:
    """Return the org's client, building a new one when the org changed."""
    stamp = (org.updated_at, org.base_url, org.auth_mode)
    with _clients_lock:
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
            deadline=org.deadline or settings.CAPILLARY_DEADLINE,
        )
        if known is not None:
            known[1].close()
        _clients[org.pk] = (stamp, client)
        return client


def forget_clients() -> None:
    """Close every pooled client (tests, and after credentials change)."""
    with _clients_lock:
        for _stamp, client in _clients.values():
            client.close()
        _clients.clear()


@dataclass(frozen=True)
class CustomerData:
    """One upstream answer for a customer, fresh or from the cache.

    `customer` may be shared with other requests of this process: treat it as read-only.
    """

    customer: records.Customer
    raw_text: str
    request_id: str | None
    path: str
    params: list[tuple[str, str]]
    fetched_at: float
    from_cache: bool = False
    warnings: list = field(default_factory=list)
    # Served because Capillary failed or is held back; `stale_reason` says why, in words.
    stale: bool = False
    stale_reason: str = ""
    # Past its freshness and being refreshed in the background.
    revalidating: bool = False

    @property
    def age_seconds(self) -> float:
        return max(0.0, cache.now() - self.fetched_at)

    @property
    def fetched_at_datetime(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.fetched_at, dt.UTC)

    @property
    def age_text(self) -> str:
        """Return the age in words ("42 s ago", "6 min ago")."""
        from lookup.templatetags.lookup_tags import age_words

        return age_words(self.age_seconds)


def _data(key: str, entry: cache.Entry, **flags: object) -> CustomerData:
    customer = cache.parsed(key, entry)
    return CustomerData(
        customer=customer,
        raw_text=entry.raw_text,
        request_id=entry.request_id,
        path=entry.path,
        params=list(entry.params),
        fetched_at=entry.fetched_at,
        warnings=list(customer.warnings),
        **flags,
    )


def fetch_customer(org: Org, query: CustomerQuery, *, refresh: bool = False) -> CustomerData:
    """Return the customer for this query, from the cache when it is fresh enough.

    Raises a lookup.capillary.errors.CapillaryError subclass (or resilience.CircuitOpen)
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
    # One reading of the org's breaker and rate-limit state serves all of the page's calls.
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
        return _data(key, entry, from_cache=True)
    if not entry.is_usable(at):
        return None
    held_back = resilience.blocked(org.pk)
    reason = resilience.stale_reason(held_back) if held_back else cache.failed_refresh(key, entry)
    if reason:
        return _data(key, entry, from_cache=True, stale=True, stale_reason=reason)
    _revalidate_later(org, query, entry)
    return _data(key, entry, from_cache=True, revalidating=True)


def _load_or_error(
    org: Org,
    query: CustomerQuery,
    copy: cache.Entry | None,
    generation: str,
    state: resilience.OrgState | None = None,
) -> CustomerData | CapillaryError:
    """Fetch through single-flight; on a Capillary failure fall back to a usable copy."""
    try:
        return _single_flight(org, query, generation, copy, wait=True, state=state)
    except CapillaryError as exc:
        if copy is not None and copy.is_usable(cache.now()) and resilience.serves_stale(exc):
            key = cache.entry_key(org.pk, query)
            reason = resilience.stale_reason(exc)
            return _data(key, copy, from_cache=True, stale=True, stale_reason=reason)
        return exc


def _deadline(org: Org) -> float:
    return org.deadline or settings.CAPILLARY_DEADLINE


def _single_flight(
    org: Org,
    query: CustomerQuery,
    generation: str,
    copy: cache.Entry | None,
    *,
    wait: bool,
    state: resilience.OrgState | None = None,
) -> CustomerData | None:
    """Make at most one upstream call for this key at a time, across threads and processes."""
    key = cache.entry_key(org.pk, query)
    flight, leader = cache.join_or_lead(key)
    if not leader:
        if not wait:
            return None
        if not flight.done.wait(4 * _deadline(org) + cache.LOCK_MARGIN_SECONDS):
            raise UpstreamTimeout(detail="waited too long for a fetch in flight")
        if flight.error is not None:
            raise flight.error
        return flight.result
    try:
        result = _lead(org, query, key, generation, copy, wait=wait, state=state)
    except BaseException as exc:
        cache.land(key, flight, error=exc)
        raise
    cache.land(key, flight, result=result)
    return result


def _newer(entry: cache.Entry | None, generation: str, copy: cache.Entry | None) -> bool:
    """Return whether `entry` was fetched after the copy we started with."""
    return (
        entry is not None
        and entry.generation == generation
        and entry.is_usable(cache.now())
        and (copy is None or entry.fetched_at > copy.fetched_at)
    )


def _lead(
    org: Org,
    query: CustomerQuery,
    key: str,
    generation: str,
    copy: cache.Entry | None,
    *,
    wait: bool,
    state: resilience.OrgState | None = None,
) -> CustomerData | None:
    """Take the shared lock and fetch, or wait for the process holding it to store its answer."""
    ttl = _deadline(org) + cache.LOCK_MARGIN_SECONDS
    give_up = time.monotonic() + 2 * ttl + cache.LOCK_MARGIN_SECONDS
    pause = 0.005
    while True:
        # The lock, and the entry as it is at that moment: the holder before us may have
        # stored an answer just before we took it.
        token, entry, _generation = cache.acquire_and_read(org.pk, query, ttl)
        if _newer(entry, generation, copy):
            if token is not None:
                cache.release(key, token)
            return _data(key, entry, from_cache=True)
        if token is not None:
            break
        if not wait:
            return None  # a background refresh never queues behind another fetch
        # Another process is fetching; its answer lands in the cache. When its lock goes
        # without an answer (it failed, or died and the lock expired), take the lock.
        while cache.is_locked(key):
            entry = cache.read(org.pk, query)[0]
            if _newer(entry, generation, copy):
                return _data(key, entry, from_cache=True)
            if time.monotonic() > give_up:
                raise UpstreamTimeout(detail="waited too long for another process's fetch")
            time.sleep(pause)
            pause = min(pause * 1.5, 0.05)
    try:
        result = _call(org, query, key, ttl, state)
    except BaseException:
        cache.release(key, token)
        raise
    fetched_at = cache.now()
    try:
        entry = cache.write(
            org.pk,
            query,
            raw_text=result.raw_text,
            request_id=result.request_id,
            path=result.path,
            params=list(result.params),
            fetched_at=fetched_at,
            generation=generation,
            customer=result.customer,
            release_token=token,  # the write and the lock's release go together
        )
    except BaseException:
        cache.release(key, token)
        raise
    if entry is not None:
        cache.remember_parsed(key, entry, result.customer)
    return CustomerData(
        customer=result.customer,
        raw_text=result.raw_text,
        request_id=result.request_id,
        path=result.path,
        params=list(result.params),
        fetched_at=fetched_at,
        warnings=list(result.customer.warnings),
    )


def _call(
    org: Org,
    query: CustomerQuery,
    key: str,
    ttl: float,
    known_state: resilience.OrgState | None = None,
):
    """Call Capillary for the query: breaker and rate limit first, bounded retries after."""
    quota = (
        org.calls_per_minute
        if org.calls_per_minute is not None
        else settings.CAPILLARY_CALLS_PER_MINUTE
    )
    state, probe = resilience.before_call(org.pk, ttl, quota, known_state)
    budget = resilience.budget_for(org.pk)
    budget.record_call()
    client = client_for(org)
    started = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        try:
            result = client.get_customer(query)
        except CapillaryError as exc:
            delay = resilience.should_retry(
                exc,
                attempt,
                budget.allows(),
                max_retries=settings.RETRY_MAX,
                base=settings.RETRY_BASE_SECONDS,
                cap=settings.RETRY_MAX_DELAY_SECONDS,
            )
            if delay is not None and time.monotonic() - started + delay < _deadline(org):
                budget.record_retry()
                logger.info("retrying %s after %s in %.2f s", query.path, type(exc).__name__, delay)
                time.sleep(delay)
                django_cache.touch(cache.lock_key(key), int(ttl) + 1)
                continue
            resilience.record_failure(org.pk, exc, probe)
            if isinstance(exc, CustomerDeleted):
                cache.purge_customer(org.pk, query.customer_id)
            raise
        resilience.record_success(org.pk, state, probe)
        return result


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
            _single_flight(org, query, copy.generation, copy, wait=False)
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
