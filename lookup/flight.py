"""One upstream answer per key: the org's client, single-flight, and the call itself.

`single_flight` makes at most one upstream call for a key at a time: threads of a process
wait on the leader's result; other processes and instances wait on the key's lock in the
shared cache and take the stored answer. The leader's `_call` checks the org's breaker
(lookup.breaker) and rate limit first and retries only what is safe to retry. `client_for`
keeps one client (one connection pool) per org and turns the stored org into credentials
without letting them out of this module. lookup.services, which views call, builds on this.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache as django_cache

from lookup import breaker, cache, resilience
from lookup.capillary import BasicAuth, CapillaryClient, CustomerQuery, OAuthAuth, records
from lookup.capillary.errors import CapillaryError, CustomerDeleted, UpstreamTimeout
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


def from_entry(key: str, entry: cache.Entry, **flags: object) -> CustomerData:
    """Return the cached entry as CustomerData (its parsed records memoised per process)."""
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


def deadline(org: Org) -> float:
    return org.deadline or settings.CAPILLARY_DEADLINE


def single_flight(
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
        if not flight.done.wait(4 * deadline(org) + cache.LOCK_MARGIN_SECONDS):
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
    ttl = deadline(org) + cache.LOCK_MARGIN_SECONDS
    give_up = time.monotonic() + 2 * ttl + cache.LOCK_MARGIN_SECONDS
    pause = 0.005
    while True:
        # The lock, and the entry as it is at that moment: the holder before us may have
        # stored an answer just before we took it.
        token, entry, _generation = cache.acquire_and_read(org.pk, query, ttl)
        if _newer(entry, generation, copy):
            if token is not None:
                cache.release(key, token)
            return from_entry(key, entry, from_cache=True)
        if token is not None:
            break
        if not wait:
            return None  # a background refresh never queues behind another fetch
        # Another process is fetching; its answer lands in the cache. When its lock goes
        # without an answer (it failed, or died and the lock expired), take the lock.
        while cache.is_locked(key):
            entry = cache.read(org.pk, query)[0]
            if _newer(entry, generation, copy):
                return from_entry(key, entry, from_cache=True)
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
    client = client_for(org)
    probe = breaker.before_call(org.pk)
    try:
        resilience.before_call(org.pk, quota, known_state)
    except BaseException:
        breaker.release(org.pk, probe)  # no call made: another may probe
        raise
    budget = resilience.budget_for(org.pk)
    budget.record_call()
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
            if delay is not None and time.monotonic() - started + delay < deadline(org):
                budget.record_retry()
                logger.info("retrying %s after %s in %.2f s", query.path, type(exc).__name__, delay)
                time.sleep(delay)
                django_cache.touch(cache.lock_key(key), int(ttl) + 1)
                continue
            # One outcome per call, after its retries.
            resilience.remember_rate_limit(org.pk, exc)
            breaker.record(org.pk, query.customer_id, exc, probe)
            if isinstance(exc, CustomerDeleted):
                cache.purge_customer(org.pk, query.customer_id)
            raise
        except BaseException as exc:
            breaker.record(org.pk, query.customer_id, exc, probe)  # no outcome: frees the probe
            raise
        breaker.record(org.pk, query.customer_id, None, probe)
        return result
