"""The service layer: the only thing views call to reach Capillary.

It reads settings at call time, keeps one client (one connection pool) per
org, owns the cache, and turns stored orgs into credentials without letting
them out of this module.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache

from lookup.capillary import (
    BasicAuth,
    CapillaryClient,
    CapillaryError,
    CustomerQuery,
    CustomerResult,
    OAuthAuth,
    records,
)
from lookup.models import Org

CACHE_VERSION = 1
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
    """One upstream answer for a customer, fresh or from the cache."""

    customer: records.Customer
    raw_text: str
    request_id: str | None
    path: str
    params: list[tuple[str, str]]
    fetched_at: float
    from_cache: bool = False
    warnings: list = field(default_factory=list)

    @property
    def age_seconds(self) -> float:
        return max(0.0, time.time() - self.fetched_at)


def cache_key(org: Org, query: CustomerQuery) -> str:
    return f"customer:v{CACHE_VERSION}:{org.pk}:{query.customer_id}:{query.normalised_key()}"


def _from_cache(entry: dict) -> CustomerData:
    raw = json.loads(entry["raw_text"])
    customer = records.Customer.from_raw(raw)
    return CustomerData(
        customer=customer,
        raw_text=entry["raw_text"],
        request_id=entry["request_id"],
        path=entry["path"],
        params=[tuple(p) for p in entry["params"]],
        fetched_at=entry["fetched_at"],
        from_cache=True,
        warnings=customer.warnings,
    )


def fetch_customer(org: Org, query: CustomerQuery, *, refresh: bool = False) -> CustomerData:
    """Return the customer for this query, from the cache when it is fresh enough.

    Raises a lookup.capillary.errors.CapillaryError subclass when Capillary fails;
    failures are never cached.
    """
    key = cache_key(org, query)
    if not refresh:
        entry = cache.get(key)
        if entry is not None:
            return _from_cache(entry)
    result: CustomerResult = client_for(org).get_customer(query)
    fetched_at = time.time()
    cache.set(
        key,
        {
            "raw_text": result.raw_text,
            "request_id": result.request_id,
            "path": result.path,
            "params": list(result.params),
            "fetched_at": fetched_at,
        },
        timeout=60,
    )
    return CustomerData(
        customer=result.customer,
        raw_text=result.raw_text,
        request_id=result.request_id,
        path=result.path,
        params=list(result.params),
        fetched_at=fetched_at,
        warnings=result.customer.warnings,
    )


# Several parts of one page are fetched at once: one round trip, not several.
_part_pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="capillary-part")


def fetch_many(
    org: Org, queries: Iterable[CustomerQuery], *, refresh: bool = False
) -> dict[CustomerQuery, CustomerData | CapillaryError]:
    """Return each query's data (or its error), fetching the ones not cached concurrently."""
    unique = list(dict.fromkeys(queries))
    if len(unique) == 1:
        futures = None
    else:
        futures = {q: _part_pool.submit(_fetch_or_error, org, q, refresh) for q in unique[1:]}
    results = {unique[0]: _fetch_or_error(org, unique[0], refresh)} if unique else {}
    for query, future in (futures or {}).items():
        results[query] = future.result()
    return results


def _fetch_or_error(org: Org, query: CustomerQuery, refresh: bool) -> CustomerData | CapillaryError:
    try:
        return fetch_customer(org, query, refresh=refresh)
    except CapillaryError as exc:
        return exc


def allow_refresh(user_id: int, org: Org, customer_id: int) -> bool:
    """Return whether this user may bypass the cache for this customer now."""
    return True


def test_org(org: Org, customer_id: int = 1) -> tuple[bool, str]:
    """Make one authenticated call for the org; return (ok, what happened)."""
    from lookup.capillary.errors import CustomerNotFound

    try:
        fetch_customer(org, CustomerQuery(customer_id=customer_id, source=org.default_source), refresh=True)
    except CustomerNotFound:
        return True, "Credentials accepted (the probe customer does not exist, which is fine)."
    except Exception as exc:  # noqa: BLE001 - reported to the operator, not raised
        return False, getattr(exc, "message", None) or exc.__class__.__name__
    return True, "Credentials accepted."
