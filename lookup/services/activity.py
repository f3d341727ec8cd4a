"""One activity panel = one cached part: read it from the store, else one upstream call.

Activity answers (a page of transactions, the coupons, the ledger, the goodwill requests,
one bill) are entries of `store` like the record's parts: keyed by org, customer,
endpoint and normalised parameters, stamped with the customer's generation (so a PII
purge drops them too), with the freshness of their kind ("activity.ledger"). A missing or
stale panel is fetched through `singleflight` (one fetch per panel across threads and
processes) and `upstream.call` (the org's breaker, rate limits and retries). The panels
one view needs are fetched side by side; a failed panel is its own error, never the page's.
"""

from __future__ import annotations

import contextvars
import json
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.conf import settings
from django.core.cache import cache

from lookup.capillary import CapillaryError
from lookup.capillary.activity import ActivityQuery
from lookup.capillary.errors import CustomerDeleted, UpstreamTimeout
from lookup.models import Org
from lookup.services import singleflight, store, upstream

_pool = ThreadPoolExecutor(
    max_workers=settings.CAPILLARY_PART_WORKERS, thread_name_prefix="capillary-panel"
)


@dataclass(frozen=True)
class PanelData:
    """One panel's answer, fresh or from the cache; `raw` is the decoded body."""

    query: ActivityQuery
    raw_text: str
    request_id: str | None
    fetched_at: float
    from_cache: bool = False
    stale: bool = False
    stale_reason: str = ""

    @cached_property
    def raw(self) -> dict[str, Any]:
        try:
            body = json.loads(self.raw_text)
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    @property
    def age_seconds(self) -> float:
        return max(0.0, store.now() - self.fetched_at)


def _from_entry(query: ActivityQuery, entry: store.Entry, **flags: Any) -> PanelData:
    return PanelData(query, entry.raw_text, entry.request_id, entry.fetched_at, **flags)


def fetch_panels(
    org: Org, panels: Mapping[str, ActivityQuery], *, refresh: bool = False
) -> dict[str, PanelData | CapillaryError]:
    """Return each named panel's data or error: cached ones at once, the rest side by side."""
    queries = list(dict.fromkeys(panels.values()))
    found = store.read_many(org.pk, queries)
    at = store.now()
    results: dict[ActivityQuery, PanelData | CapillaryError] = {}
    missing = []
    for query in queries:
        entry, _generation = found[query]
        if entry is not None and entry.is_fresh(at) and not refresh:
            results[query] = _from_entry(query, entry, from_cache=True)
        else:
            missing.append(query)
    if missing:
        futures = {
            q: _pool.submit(contextvars.copy_context().run, _load, org, q, found[q])
            for q in missing[1:]
        }
        results[missing[0]] = _load(org, missing[0], found[missing[0]])
        for query, future in futures.items():
            results[query] = future.result()
    return {name: results[query] for name, query in panels.items()}


def fetch_panel(org: Org, query: ActivityQuery, *, refresh: bool = False) -> PanelData:
    """Return one panel's data; raise its CapillaryError when it failed with no usable copy."""
    result = fetch_panels(org, {"panel": query}, refresh=refresh)["panel"]
    if isinstance(result, CapillaryError):
        raise result
    return result


def _load(
    org: Org, query: ActivityQuery, found: tuple[store.Entry | None, str]
) -> PanelData | CapillaryError:
    """Join this process's fetch of the panel, or lead one (taking the shared lock)."""
    key = store.entry_key(org.pk, query)
    joined, flight = singleflight.flights.join_or_lead([key])
    patience = 2 * (upstream.deadline(org) + singleflight.LOCK_MARGIN_SECONDS)
    if flight is None:
        value = joined[key].result(key, patience)
        return value if value is not None else UpstreamTimeout(detail="waited too long")
    try:
        value = _lead(org, query, key, found, patience)
    except BaseException as exc:
        singleflight.flights.land(flight, {}, exc)
        raise
    singleflight.flights.land(flight, {key: value})
    return value


def _lead(
    org: Org,
    query: ActivityQuery,
    key: str,
    found: tuple[store.Entry | None, str],
    patience: float,
) -> PanelData | CapillaryError:
    copy, generation = found
    ttl = upstream.deadline(org) + singleflight.LOCK_MARGIN_SECONDS
    give_up = time.monotonic() + patience
    while (token := singleflight.acquire(key, ttl)) is None:
        # Another process is fetching this panel: its answer lands in the cache.
        entry, _gen = store.read(org.pk, query)
        if entry is not None and (copy is None or entry.fetched_at > copy.fetched_at):
            return _from_entry(query, entry, from_cache=True)
        if time.monotonic() > give_up:
            return _fallback(query, copy, UpstreamTimeout(detail="waited for another fetch"))
        time.sleep(0.02)
    try:
        return _call(org, query, copy, generation, key, ttl)
    finally:
        singleflight.release({key: token})


def _call(
    org: Org,
    query: ActivityQuery,
    copy: store.Entry | None,
    generation: str,
    key: str,
    ttl: float,
) -> PanelData | CapillaryError:
    def keep_lock() -> None:
        cache.touch(singleflight.lock_key(key), int(ttl) + 1)

    try:
        result = upstream.call(org, query, keep_lock=keep_lock)
    except CapillaryError as exc:
        if isinstance(exc, CustomerDeleted):
            store.purge_customer(org.pk, query.customer_id)
        return _fallback(query, copy, exc)
    fetched_at = store.now()
    store.write_many(
        org.pk,
        [store.Answer(query, result.raw_text, result.raw)],
        request_id=result.request_id,
        path=result.path,
        params=list(result.params),
        fetched_at=fetched_at,
        generation=generation,
    )
    return PanelData(query, result.raw_text, result.request_id, fetched_at)


def _fallback(
    query: ActivityQuery, copy: store.Entry | None, error: CapillaryError
) -> PanelData | CapillaryError:
    """Answer a failed panel with its last usable copy when the failure allows it."""
    if copy is not None and copy.is_usable(store.now()) and upstream.serves_stale(error):
        reason = upstream.stale_reason(error)
        return _from_entry(query, copy, from_cache=True, stale=True, stale_reason=reason)
    return error
