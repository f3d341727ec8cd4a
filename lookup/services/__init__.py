"""The service layer: the only thing views call to reach Capillary.

A view asks for the parts it shows (`fetch(org, {name: query})`): parts of the customer
record (`CustomerQuery`) or Activity panels (`ActivityQuery`: a page of transactions, the
coupons, the ledger...), each its own cached entry. Each part is answered,
in order: from a fresh cached copy; from a usable stale copy while one background refresh
runs; by joining a fetch already in flight that will store it (in this process, or in any
process sharing the cache); and what is left by **one** upstream call that asks for all
of it at once, whose answer is cut back into the parts and cached per part. When that
call fails the way a slow or broken Capillary fails, a part's last good copy is served,
marked stale with the reason.

Read top to bottom: `fetch` -> `_load` (single-flight in this process) -> `_lead` (the
shared locks) -> `_call` (one upstream call per group of parts that can share one).
`store` keeps the entries, `singleflight` the flights and locks, `combine` merges and
splits queries, `upstream` calls Capillary behind the org's rate limits and breaker.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property

from django.conf import settings
from django.core.cache import cache

from lookup import metrics
from lookup.capillary import CapillaryError, CustomerQuery, CustomerResult, records
from lookup.capillary.activity import ActivityQuery
from lookup.capillary.errors import CustomerDeleted, CustomerNotFound, UpstreamTimeout
from lookup.models import Org
from lookup.services import combine, singleflight, stats, store, upstream
from lookup.services.upstream import client_for, forget_clients

__all__ = [
    "CustomerData",
    "PanelData",
    "allow_refresh",
    "cached",
    "client_for",
    "fetch",
    "fetch_customer",
    "forget_clients",
    "in_cache",
    "test_org",
    "wait_for_refreshes",
]
logger = logging.getLogger("lookup.services")


def _decode(text: str) -> dict:
    """Return an answer's decoded body: an empty object when the text is not a JSON object."""
    try:
        decoded = json.loads(text)
    except (TypeError, ValueError):
        return {}
    return decoded if isinstance(decoded, dict) else {}


@dataclass(frozen=True)
class CustomerData:
    """One part of a customer, fresh or from the cache.

    `params` are the part's own query parameters (what names it in the cache and in a
    reveal reference); `call_params` are what the upstream call that fetched it sent.
    `customer`, the typed records, is parsed when first asked for, from `parsed` when the
    records are already at hand, else from `raw` (the decoded body) or `raw_text`; a
    viewer who sees the part masked never pays for parsing the clear one. `customer` may be
    shared with other requests of this process: treat it as read-only.
    """

    raw_text: str
    request_id: str | None
    path: str
    params: list[tuple[str, str]]
    fetched_at: float
    call_params: list[tuple[str, str]] = field(default_factory=list)
    from_cache: bool = False
    # Served because Capillary failed or is held back; `stale_reason` says why, in words.
    stale: bool = False
    stale_reason: str = ""
    # Past its freshness and being refreshed in the background.
    revalidating: bool = False
    parsed: records.Customer | None = None
    raw: dict | None = None

    @cached_property
    def customer(self) -> records.Customer:
        if self.parsed is not None:
            return self.parsed
        return records.Customer.from_raw(self.body())

    def body(self) -> dict:
        """Return the decoded body (an empty object when the text is not JSON)."""
        if self.raw is not None:
            return self.raw
        if self.parsed is not None and self.parsed.raw:
            return self.parsed.raw
        return _decode(self.raw_text)

    @property
    def warnings(self) -> list:
        return list(self.customer.warnings)

    @property
    def age_seconds(self) -> float:
        return max(0.0, store.now() - self.fetched_at)

    @property
    def fetched_at_datetime(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.fetched_at, dt.UTC)

    @property
    def age_text(self) -> str:
        """Return the age in words ("42 s ago", "6 min ago")."""
        from lookup.templatetags.lookup_tags import age_words

        return age_words(self.age_seconds)


@dataclass(frozen=True)
class PanelData:
    """One Activity panel's answer, fresh or from the cache; `raw` is the decoded body."""

    query: ActivityQuery
    raw_text: str
    request_id: str | None
    fetched_at: float
    from_cache: bool = False
    stale: bool = False
    stale_reason: str = ""
    revalidating: bool = False
    # The decoded body when it is already at hand (just fetched): `raw` then skips a parse.
    decoded: dict | None = None

    @cached_property
    def raw(self) -> dict:
        return self.decoded if self.decoded is not None else _decode(self.raw_text)

    @property
    def age_seconds(self) -> float:
        return max(0.0, store.now() - self.fetched_at)


Query = CustomerQuery | ActivityQuery
PartData = CustomerData | PanelData


def _from_entry(org: Org, query: Query, entry: store.Entry, **flags) -> PartData:
    if isinstance(query, ActivityQuery):
        return PanelData(query, entry.raw_text, entry.request_id, entry.fetched_at, **flags)
    return _stored(
        query, entry, parsed=store.parsed(store.entry_key(org.pk, query), entry), **flags
    )


def _stored(query: Query, entry: store.Entry, **fields) -> CustomerData:
    """Return an entry as the record's part data: its text and the call that fetched it."""
    return CustomerData(
        raw_text=entry.raw_text,
        request_id=entry.request_id,
        path=entry.path,
        params=query.params(),
        call_params=list(entry.params),
        fetched_at=entry.fetched_at,
        **fields,
    )


# -- what views call ----------------------------------------------------------------------------


def fetch(
    org: Org, parts: Mapping[str, Query], *, refresh: bool = False
) -> dict[str, PartData | CapillaryError]:
    """Return each named part's data (or its error), making at most one call per view.

    `refresh` skips freshness (not single-flight: a refresh joins a fetch in flight).
    """
    queries = list(dict.fromkeys(parts.values()))
    if not queries:
        return {}
    found = store.read_many(org.pk, queries)
    at = store.now()
    results: dict[Query, PartData | CapillaryError] = {}
    needs: dict[Query, tuple[store.Entry | None, str]] = {}
    stale: dict[Query, tuple[store.Entry, str]] = {}
    for query in queries:
        entry, generation = found[query]
        if refresh or entry is None or not entry.is_usable(at):
            needs[query] = (entry, generation)
            metrics.CACHE_PARTS.labels(store.kind_of(query), "miss").inc()
        elif entry.is_fresh(at):
            results[query] = _from_entry(org, query, entry, from_cache=True)
            metrics.CACHE_PARTS.labels(store.kind_of(query), "hit").inc()
        else:
            stale[query] = (entry, generation)
    if len(needs) < len(queries):
        stats.count(org.pk, "cache_hits", len(queries) - len(needs))
    if needs:
        stats.count(org.pk, "cache_misses", len(needs))
    if stale:
        results.update(_serve_stale(org, stale))
    if needs:
        results.update(_load(org, needs, wait=True))
    return {name: results[query] for name, query in parts.items()}


def fetch_customer(org: Org, query: Query, *, refresh: bool = False) -> PartData:
    """Return one part's data (the record's or a panel's); raise its CapillaryError when it
    failed with no usable copy."""
    result = fetch(org, {"customer": query}, refresh=refresh)["customer"]
    if isinstance(result, CapillaryError):
        raise result
    return result


def in_cache(org: Org, queries: Iterable[Query]) -> set[Query]:
    """Return which of the queries have a usable cached answer (one cache round trip)."""
    found = store.read_many(org.pk, queries)
    at = store.now()
    return {q for q, (entry, _gen) in found.items() if entry is not None and entry.is_usable(at)}


def cached(org: Org, parts: Mapping[str, Query]) -> dict[str, CustomerData | None]:
    """Return each named part's usable cached answer, or None; never calls Capillary.

    The answer is the entry as stored (its text and the call that fetched it), unparsed.
    """
    found = store.read_many(org.pk, parts.values())
    at = store.now()
    out: dict[str, CustomerData | None] = {}
    for name, query in parts.items():
        entry = found[query][0]
        out[name] = None
        if entry is not None and entry.is_usable(at):
            out[name] = _stored(query, entry, from_cache=True)
    return out


def allow_refresh(user_id: int, org: Org, customer_id: int) -> bool:
    """Return whether this user may bypass the cache now (REFRESH_LIMIT per window)."""
    window = settings.REFRESH_WINDOW_SECONDS
    slot = int(store.now() // window)
    key = f"{store.NAMESPACE}:refresh:{user_id}:{slot}"
    cache.add(key, 0, timeout=window + 1)
    try:
        used = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=window + 1)
        used = 1
    if used > settings.REFRESH_LIMIT:
        metrics.REFUSALS.labels("refresh_limit").inc()
        return False
    return True


def test_org(org: Org, customer_id: int = 1) -> tuple[bool, str]:
    """Make one authenticated call for the org; return (ok, what happened)."""
    try:
        fetch_customer(
            org, CustomerQuery(customer_id=customer_id, source=org.default_source), refresh=True
        )
    except CustomerNotFound:
        return True, "Credentials accepted (the probe customer does not exist, which is fine)."
    except Exception as exc:  # noqa: BLE001 - reported to the operator, not raised
        return False, getattr(exc, "message", None) or exc.__class__.__name__
    return True, "Credentials accepted."


# -- stale copies -------------------------------------------------------------------------------


def _serve_stale(org: Org, stale: dict[Query, tuple[store.Entry, str]]) -> dict[Query, PartData]:
    """Serve usable stale copies; refresh them in the background in one call when allowed."""
    held_back = upstream.blocked(org.pk)
    served: dict[Query, PartData] = {}
    refresh: dict[Query, tuple[store.Entry | None, str]] = {}
    for query, (entry, generation) in stale.items():
        if held_back is not None:
            reason = upstream.stale_reason(held_back)
        else:
            reason = store.failed_refresh(store.entry_key(org.pk, query), entry)
        if reason:
            served[query] = _from_entry(
                org, query, entry, from_cache=True, stale=True, stale_reason=reason
            )
            metrics.CACHE_PARTS.labels(store.kind_of(query), "stale").inc()
        else:
            served[query] = _from_entry(org, query, entry, from_cache=True, revalidating=True)
            metrics.CACHE_PARTS.labels(store.kind_of(query), "revalidate").inc()
            refresh[query] = (entry, generation)
    if refresh:
        _revalidate_later(org, refresh)
    return served


def _fallback(
    org: Org, query: Query, copy: store.Entry | None, error: CapillaryError
) -> PartData | CapillaryError:
    """Answer a failed part with its last usable copy when the failure allows it."""
    if copy is not None and copy.is_usable(store.now()) and upstream.serves_stale(error):
        reason = upstream.stale_reason(error)
        metrics.CACHE_PARTS.labels(store.kind_of(query), "stale").inc()
        return _from_entry(org, query, copy, from_cache=True, stale=True, stale_reason=reason)
    return error


def _newer(entry: store.Entry | None, generation: str, copy: store.Entry | None) -> bool:
    """Return whether `entry` was stored after the copy we started from."""
    return (
        entry is not None
        and entry.generation == generation
        and entry.is_usable(store.now())
        and (copy is None or entry.fetched_at > copy.fetched_at)
    )


# -- single-flight ------------------------------------------------------------------------------

Needs = dict[Query, tuple["store.Entry | None", str]]


def _patience(org: Org) -> float:
    return 2 * (upstream.deadline(org) + singleflight.LOCK_MARGIN_SECONDS)


def _load(org: Org, needs: Needs, *, wait: bool, depth: int = 0) -> dict:
    """Fetch the parts through this process's flights: join those in flight, lead the rest."""
    keys = {query: store.entry_key(org.pk, query) for query in needs}
    by_key = {key: query for query, key in keys.items()}
    joined, flight = singleflight.flights.join_or_lead(list(keys.values()))
    results: dict = {}
    if flight is not None:
        mine = {by_key[key]: needs[by_key[key]] for key in flight.keys}
        try:
            got = _lead(org, mine, wait=wait)
        except BaseException as exc:
            singleflight.flights.land(flight, {}, exc)
            raise
        singleflight.flights.land(flight, {keys[q]: value for q, value in got.items()})
        results.update(got)
    if not wait:
        return results  # a background refresh never queues behind another fetch
    if joined:
        metrics.SINGLEFLIGHT_WAITS.labels("process").inc(len(joined))
    left: Needs = {}
    for key, other in joined.items():
        query = by_key[key]
        value = other.result(key, 2 * _patience(org))
        if value is None:
            left[query] = needs[query]  # that fetch did not get this part: try ourselves
        else:
            results[query] = value
    if left:
        if depth >= 2:
            error = UpstreamTimeout(detail="waited too long for a fetch in flight")
            results.update({q: _fallback(org, q, left[q][0], error) for q in left})
        else:
            results.update(_load(org, left, wait=True, depth=depth + 1))
    return results


def _lead(org: Org, needs: Needs, *, wait: bool) -> dict:
    """Take each part's shared lock; call for the parts we hold, wait for the others."""
    ttl = upstream.deadline(org) + singleflight.LOCK_MARGIN_SECONDS
    keys = {query: store.entry_key(org.pk, query) for query in needs}
    tokens = {}
    # In key order, stopping at the first lock another process holds: two processes after
    # the same parts then never take half each (and make two calls); the first lock decides.
    for query, key in sorted(keys.items(), key=lambda item: item[1]):
        token = singleflight.acquire(key, ttl)
        if token is None:
            break
        tokens[query] = token
    results: dict = {}
    try:
        if tokens:
            # The process that held a lock before us may have stored its answer just now.
            now_found = store.read_many(org.pk, list(tokens))
            for query in tokens:
                entry = now_found[query][0]
                if _newer(entry, needs[query][1], needs[query][0]):
                    results[query] = _from_entry(org, query, entry, from_cache=True)
            calls = {q: needs[q] for q in tokens if q not in results}
            if calls:

                def keep_lock() -> None:
                    for query in calls:
                        cache.touch(singleflight.lock_key(keys[query]), int(ttl) + 1)

                results.update(_call(org, calls, keep_lock))
    finally:
        singleflight.release({keys[q]: token for q, token in tokens.items()})
    elsewhere = {q: needs[q] for q in needs if q not in tokens}
    if elsewhere and wait:
        metrics.SINGLEFLIGHT_WAITS.labels("shared").inc(len(elsewhere))
        results.update(_wait_elsewhere(org, elsewhere))
    return results


def _wait_elsewhere(org: Org, needs: Needs) -> dict:
    """Wait for another process's fetch of these parts to land in the cache.

    When the locks go without an answer (the holder failed, or died and its locks expired),
    fetch what is left ourselves. Only once none of them is held: a process takes a call's
    locks one at a time, so a free lock beside a held one may be the next it takes, and
    taking it first would split one call in two.
    """
    keys = {query: store.entry_key(org.pk, query) for query in needs}
    give_up = time.monotonic() + _patience(org)
    pending = dict(needs)
    results: dict = {}
    pause = 0.005
    while pending:
        found = store.read_many(org.pk, list(pending))
        for query in list(pending):
            entry = found[query][0]
            if _newer(entry, pending[query][1], pending[query][0]):
                results[query] = _from_entry(org, query, entry, from_cache=True)
                del pending[query]
        if not pending:
            break
        if not singleflight.locked(keys[q] for q in pending):
            free = dict(pending)
            pending.clear()
            results.update(_lead(org, free, wait=False))
            for query in free:
                if query not in results:
                    pending[query] = free[query]  # someone else took it first: keep waiting
        if time.monotonic() > give_up:
            error = UpstreamTimeout(detail="waited too long for another process's fetch")
            results.update({q: _fallback(org, q, pending[q][0], error) for q in pending})
            break
        time.sleep(pause)
        pause = min(pause * 1.5, 0.05)
    return results


# -- the upstream call --------------------------------------------------------------------------

# Parts that cannot share one call (two gap projections, say) are fetched side by side.
_group_pool = ThreadPoolExecutor(
    max_workers=settings.CAPILLARY_PART_WORKERS, thread_name_prefix="capillary-call"
)


def _call(org: Org, needs: Needs, keep_lock) -> dict:
    """Fetch the parts in as few upstream calls as can answer them (usually one)."""
    groups = combine.plan(needs)
    futures = [
        _group_pool.submit(
            contextvars.copy_context().run, _call_group, org, *group, needs, keep_lock
        )
        for group in groups[1:]
    ]
    results = _call_group(org, *groups[0], needs, keep_lock)
    for future in futures:
        results.update(future.result())
    return results


def _call_group(org: Org, call: Query, parts: list[Query], needs: Needs, keep_lock) -> dict:
    """Make one upstream call for these parts; store and return each part's slice."""
    try:
        result = upstream.call(org, call, keep_lock=keep_lock)
    except CapillaryError as exc:
        if isinstance(exc, CustomerDeleted):
            store.purge_customer(org.pk, call.customer_id)
        return {query: _fallback(org, query, needs[query][0], exc) for query in parts}
    return keep(org, result, call, parts, generation=needs[parts[0]][1])


def keep(
    org: Org,
    result: CustomerResult,
    call: Query,
    parts: list[Query],
    *,
    generation: str,
    sent: list[tuple[str, str]] | None = None,
) -> dict[Query, PartData]:
    """Store the answer to `call` cut into `parts` (each its own entry); return each part.

    `sent` is what the raw tab shows as the request, when not the call's own parameters.
    """
    sent = list(result.params) if sent is None else sent
    fetched_at = store.now()
    if parts == [call]:
        answers = [store.Answer(call, result.raw_text, result.raw)]
    else:
        pieces = combine.split(result.raw, call, parts)
        answers = [store.Answer(q, combine.dumps(pieces[q]), pieces[q]) for q in parts]
    store.write_many(
        org.pk,
        answers,
        request_id=result.request_id,
        path=result.path,
        params=sent,
        fetched_at=fetched_at,
        generation=generation,
    )
    return {answer.query: _answered(answer, result, sent, fetched_at) for answer in answers}


def _answered(
    answer: store.Answer,
    result: CustomerResult,
    sent: list[tuple[str, str]],
    fetched_at: float,
) -> PartData:
    """Return one just-stored part as the view gets it."""
    if isinstance(answer.query, ActivityQuery):
        decoded = answer.raw if isinstance(answer.raw, dict) else None
        return PanelData(
            answer.query, answer.raw_text, result.request_id, fetched_at, decoded=decoded
        )
    return CustomerData(
        raw_text=answer.raw_text,
        request_id=result.request_id,
        path=result.path,
        params=answer.query.params(),
        call_params=sent,
        fetched_at=fetched_at,
        raw=answer.raw,
    )


# -- background refresh -------------------------------------------------------------------------

_refresh_pool: ThreadPoolExecutor | None = None
_refreshing: set[str] = set()
_refresh_lock = threading.Lock()
MAX_PENDING_REFRESHES = 64


def _revalidate_later(org: Org, needs: Needs) -> None:
    """Refresh stale parts in the background, in one call: bounded, and once per part."""
    global _refresh_pool
    keys = {query: store.entry_key(org.pk, query) for query in needs}
    with _refresh_lock:
        todo = {q: needs[q] for q, key in keys.items() if key not in _refreshing}
        if not todo or len(_refreshing) >= MAX_PENDING_REFRESHES:
            return
        _refreshing.update(keys[q] for q in todo)
        if _refresh_pool is None:
            _refresh_pool = ThreadPoolExecutor(
                max_workers=settings.CACHE_REFRESH_WORKERS, thread_name_prefix="cache-refresh"
            )
    _refresh_pool.submit(contextvars.copy_context().run, _revalidate, org, todo, keys)


def _revalidate(org: Org, needs: Needs, keys: dict[Query, str]) -> None:
    try:
        held = singleflight.locked(keys[q] for q in needs)
        free = {q: needs[q] for q in needs if keys[q] not in held}
        for query, value in _load(org, free, wait=False).items():
            copy = needs[query][0]
            if not isinstance(value, CapillaryError) and value.stale and copy is not None:
                store.mark_failed_refresh(keys[query], copy, value.stale_reason)
            elif isinstance(value, CapillaryError):
                logger.info("background refresh of %s failed: %s", query.path, type(value).__name__)
    except Exception:
        logger.exception("background refresh of customer %s crashed", next(iter(needs)).customer_id)
    finally:
        with _refresh_lock:
            _refreshing.difference_update(keys[q] for q in needs)


def wait_for_refreshes(timeout: float = 10.0) -> bool:
    """Wait until no background refresh is pending (tests, the benchmark); return if none is."""
    give_up = time.monotonic() + timeout
    while _refreshing and time.monotonic() < give_up:
        time.sleep(0.01)
    return not _refreshing
