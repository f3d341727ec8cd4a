"""Cache entries for Capillary answers: keys, freshness, per-customer purge and single-flight.

Entries hold the upstream body text and where it came from, never HTML, credentials or
failures. Each entry records the customer's *generation*; bumping the generation (after a
PII-deleted answer) orphans every entry of that customer at once.
"""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

from lookup import crypto
from lookup.capillary import CustomerQuery, records

VERSION = 2  # 2: bodies encrypted
NAMESPACE = f"capillary:v{VERSION}"
IMAGE_EMBEDS = frozenset({"customerImage", "associatedImages"})
LOCK_MARGIN_SECONDS = 2.0
FAILED_REFRESH_SECONDS = 10

# The clock behind every freshness decision; tests replace it to move time.
clock: Callable[[], float] = time.time


def now() -> float:
    return clock()


@functools.lru_cache(maxsize=8192)
def entry_key(org_id: int, query: CustomerQuery) -> str:
    """Return the key of one query's entry; equal queries in any order share it.

    Kept per (org, query), both immutable: a page asks for its parts' keys several times.
    """
    digest = hashlib.blake2b(query.normalised_key().encode(), digest_size=12).hexdigest()
    account = query.account_id or "-"
    return f"{NAMESPACE}:c:{org_id}:{query.customer_id}:{query.source}:{account}:{digest}"


def generation_key(org_id: int, customer_id: int) -> str:
    return f"{NAMESPACE}:gen:{org_id}:{customer_id}"


def lock_key(key: str) -> str:
    return f"{key}:lock"


def kind_of(query: CustomerQuery) -> str:
    """Return the freshness kind of a query: "images", its one embed, or "base"."""
    if query.embed & IMAGE_EMBEDS:
        return "images"
    if len(query.embed) == 1:
        return next(iter(query.embed))
    return "base"


def windows(kind: str) -> tuple[float, float]:
    """Return (fresh, usable-stale) seconds for a kind, from settings."""
    fresh = settings.CACHE_FRESH_OVERRIDES.get(kind, settings.CACHE_FRESH_SECONDS)
    stale = settings.CACHE_STALE_OVERRIDES.get(kind, settings.CACHE_STALE_SECONDS)
    return fresh, max(fresh, stale)


def image_expiry(customer: records.Customer) -> float | None:
    """Return when the first pre-signed image URL in the answer stops working, if any."""
    times = [
        image.expires_at.timestamp()
        for image in (*customer.customer_images, *customer.associated_images)
        if image.expires_at is not None
    ]
    return min(times) if times else None


@dataclass(frozen=True)
class Entry:
    """One cached answer as stored (a plain dict in the cache backend)."""

    raw_text: str
    request_id: str | None
    path: str
    params: list[tuple[str, str]]
    fetched_at: float
    fresh_until: float
    stale_until: float
    generation: str

    def is_fresh(self, at: float) -> bool:
        return at < self.fresh_until

    def is_usable(self, at: float) -> bool:
        return at < self.stale_until

    def to_dict(self) -> dict[str, Any]:
        # The body is personal data: encrypted with the org-secret keys, so a shared Redis
        # (or a dump of it) holds no clear mobile numbers, emails or card numbers.
        return {
            "body": crypto.encrypt(self.raw_text),
            "request_id": self.request_id,
            "path": self.path,
            "params": [list(p) for p in self.params],
            "fetched_at": self.fetched_at,
            "fresh_until": self.fresh_until,
            "stale_until": self.stale_until,
            "generation": self.generation,
        }

    @classmethod
    def from_dict(cls, value: Any) -> Entry | None:
        try:
            return cls(
                raw_text=crypto.decrypt(value["body"]),
                request_id=value["request_id"],
                path=value["path"],
                params=[(str(k), str(v)) for k, v in value["params"]],
                fetched_at=float(value["fetched_at"]),
                fresh_until=float(value["fresh_until"]),
                stale_until=float(value["stale_until"]),
                generation=str(value["generation"]),
            )
        except (KeyError, TypeError, ValueError, crypto.SecretUnreadable):
            return None  # another version's entry, or a retired key: treat as a miss


def read(org_id: int, query: CustomerQuery) -> tuple[Entry | None, str]:
    """Return the query's entry (None on a miss or an older generation) and the generation."""
    return read_many(org_id, [query])[query]


def read_many(
    org_id: int, queries: list[CustomerQuery]
) -> dict[CustomerQuery, tuple[Entry | None, str]]:
    """Read several entries and their customers' generations in one cache round trip."""
    keys = {q: entry_key(org_id, q) for q in queries}
    gens = {q: generation_key(org_id, q.customer_id) for q in queries}
    found = cache.get_many([*keys.values(), *set(gens.values())])
    out = {}
    for query in queries:
        generation = found.get(gens[query])
        if generation is None:
            # A random generation, so an evicted generation key can never revive old entries;
            # when another request set one first, theirs is the one.
            mine = secrets.token_hex(8)
            if cache.add(gens[query], mine, timeout=None):
                generation = mine
            else:
                generation = cache.get(gens[query]) or ""
            found[gens[query]] = generation
        out[query] = (_current(found.get(keys[query]), generation), str(generation))
    return out


def _current(stored: Any, generation: Any) -> Entry | None:
    """Return the stored entry if it belongs to the customer's current generation."""
    entry = Entry.from_dict(stored) if stored is not None else None
    return entry if entry is not None and entry.generation == generation else None


def write(
    org_id: int,
    query: CustomerQuery,
    *,
    raw_text: str,
    request_id: str | None,
    path: str,
    params: list[tuple[str, str]],
    fetched_at: float,
    generation: str,
    customer: records.Customer,
    release_token: str | None = None,
) -> Entry | None:
    """Store a successful answer; return the entry, or None when it may not be kept at all.

    With `release_token`, also drop the entry's fetch lock if it is still ours (on Redis in
    the same round trip as the write).
    """
    kind = kind_of(query)
    fresh, stale = windows(kind)
    fresh_until, stale_until = fetched_at + fresh, fetched_at + stale
    if kind == "images":
        expiry = image_expiry(customer)
        if expiry is not None:
            # Never serve a pre-signed URL past its expiry (less a margin for the viewer).
            usable_until = expiry - settings.CACHE_IMAGE_MARGIN_SECONDS
            fresh_until, stale_until = (
                min(fresh_until, usable_until),
                min(stale_until, usable_until),
            )
    entry = Entry(
        raw_text, request_id, path, list(params), fetched_at, fresh_until, stale_until, generation
    )
    key = entry_key(org_id, query)
    timeout = stale_until - now()
    if timeout <= 0:
        if release_token is not None:
            release(key, release_token)
        return None
    seconds = max(1, int(timeout) + 1)
    redis = _redis()
    if redis is None or release_token is None:
        cache.set(key, entry.to_dict(), timeout=seconds)
        if release_token is not None:
            release(key, release_token)
        return entry
    backend, client, serializer = redis
    pipe = client.pipeline(transaction=False)
    pipe.set(backend.make_and_validate_key(key), serializer.dumps(entry.to_dict()), ex=seconds)
    _release_in(pipe, backend, key, release_token)
    pipe.execute()
    return entry


def purge_customer(org_id: int, customer_id: int) -> None:
    """Orphan every cached entry of this customer (all sources, embeds and parameters)."""
    cache.set(generation_key(org_id, customer_id), secrets.token_hex(8), timeout=None)


def failed_refresh(key: str, entry: Entry) -> str:
    """Return why the last background refresh of this copy failed, or "" if it did not."""
    marker = cache.get(f"{key}:failed")
    if isinstance(marker, dict) and marker.get("copy") == entry.fetched_at:
        return str(marker.get("reason", ""))
    return ""


def mark_failed_refresh(key: str, entry: Entry, reason: str) -> None:
    """Remember, briefly, that refreshing this copy failed; it labels the copy as stale and
    keeps background refreshes of a failing key to one per FAILED_REFRESH_SECONDS."""
    value = {"copy": entry.fetched_at, "reason": reason}
    cache.set(f"{key}:failed", value, timeout=FAILED_REFRESH_SECONDS)


# Parsing the body into records costs more than the rest of a cache hit, so each process
# keeps the last few parsed customers, keyed by entry and fetch time.
_parsed: OrderedDict[tuple[str, float, str], records.Customer] = OrderedDict()
_parsed_lock = threading.Lock()
PARSED_MAX = 96


def parsed(key: str, entry: Entry) -> records.Customer:
    """Return the entry's customer records, parsed once per process."""
    memo_key = (key, entry.fetched_at, entry.generation)
    with _parsed_lock:
        customer = _parsed.get(memo_key)
        if customer is not None:
            _parsed.move_to_end(memo_key)
            return customer
    customer = records.Customer.from_raw(json.loads(entry.raw_text))
    with _parsed_lock:
        _parsed[memo_key] = customer
        while len(_parsed) > PARSED_MAX:
            _parsed.popitem(last=False)
    return customer


def remember_parsed(key: str, entry: Entry, customer: records.Customer) -> None:
    with _parsed_lock:
        _parsed[(key, entry.fetched_at, entry.generation)] = customer
        while len(_parsed) > PARSED_MAX:
            _parsed.popitem(last=False)


# -- single-flight ------------------------------------------------------------------------------


def acquire(key: str, ttl: float) -> str | None:
    """Take the key's fetch lock (shared through the cache); return its token, or None."""
    token = secrets.token_hex(8)
    return token if cache.add(lock_key(key), token, timeout=max(1, int(ttl + 0.999))) else None


# On Redis, "delete it if it is still ours" is one atomic round trip.
_RELEASE_SCRIPT = """
if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) end
return 0
"""


def _redis() -> tuple[RedisCache, Any, Any] | None:
    """Return (backend, client, serializer) when the cache is Redis, for batched commands."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    return backend, backend._cache.get_client(write=True), backend._cache._serializer


def _release_in(client: Any, backend: RedisCache, key: str, token: str) -> None:
    full_key = backend.make_and_validate_key(lock_key(key))
    client.eval(_RELEASE_SCRIPT, 1, full_key, backend._cache._serializer.dumps(token))


def release(key: str, token: str) -> None:
    """Drop the lock if it is still ours (a lock that expired may belong to someone else)."""
    redis = _redis()
    if redis is not None:
        backend, client, _serializer = redis
        _release_in(client, backend, key, token)
    elif cache.get(lock_key(key)) == token:
        cache.delete(lock_key(key))


def acquire_and_read(
    org_id: int, query: CustomerQuery, ttl: float
) -> tuple[str | None, Entry | None, str]:
    """Take the query's fetch lock and read its entry as it is at that moment.

    Return (lock token or None when another holder has it, current entry or None, the
    customer's generation). On Redis the two are one round trip, in that order, so an
    answer stored before the lock was taken is seen.
    """
    key = entry_key(org_id, query)
    redis = _redis()
    if redis is None:
        token = acquire(key, ttl)
        entry, generation = read(org_id, query)
        return token, entry, generation
    backend, client, serializer = redis
    token = secrets.token_hex(8)
    gen_key = generation_key(org_id, query.customer_id)
    pipe = client.pipeline(transaction=False)
    pipe.set(
        backend.make_and_validate_key(lock_key(key)),
        serializer.dumps(token),
        nx=True,
        ex=max(1, int(ttl + 0.999)),
    )
    pipe.mget([backend.make_and_validate_key(key), backend.make_and_validate_key(gen_key)])
    took, (stored, generation) = pipe.execute()
    generation = serializer.loads(generation) if generation is not None else None
    if generation is None:  # evicted or never set: read_many sets one up
        entry, generation = read(org_id, query)
    else:
        entry = _current(serializer.loads(stored) if stored is not None else None, generation)
    return (token if took else None), entry, str(generation)


def is_locked(key: str) -> bool:
    return cache.get(lock_key(key)) is not None


class Flight:
    """One in-process fetch that other threads of this process wait on instead of polling."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None

    def finish(self, result: Any = None, error: BaseException | None = None) -> None:
        self.result, self.error = result, error
        self.done.set()


_flights: dict[str, Flight] = {}
_flights_lock = threading.Lock()


def join_or_lead(key: str) -> tuple[Flight, bool]:
    """Return this process's flight for the key, and whether the caller leads it."""
    with _flights_lock:
        flight = _flights.get(key)
        if flight is not None:
            return flight, False
        flight = _flights[key] = Flight()
        return flight, True


def land(key: str, flight: Flight, result: Any = None, error: BaseException | None = None) -> None:
    """Finish the flight and let the next request start a new one."""
    with _flights_lock:
        if _flights.get(key) is flight:
            del _flights[key]
    flight.finish(result, error)
