"""Cached Capillary answers: one entry per part, its freshness, and the per-customer purge.

Entries hold the part's slice of an upstream body and where it came from, never HTML,
credentials or failures. Each entry records the customer's *generation*; bumping the
generation (after a PII-deleted answer) orphans every entry of that customer at once.
Only Django's public cache API is used, so any backend works (local memory, Redis).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

from lookup import crypto
from lookup.capillary import CustomerQuery, records
from lookup.capillary.activity import ActivityQuery
from lookup.lru import LRU

VERSION = 3  # 3: one entry per part, sliced from a combined call
NAMESPACE = f"capillary:v{VERSION}"
IMAGE_EMBEDS = frozenset({"customerImage", "associatedImages"})
FAILED_REFRESH_SECONDS = 10

# The clock behind every freshness decision; tests replace it to move time.
clock: Callable[[], float] = time.time


def now() -> float:
    return clock()


_keys: LRU[tuple[int, CustomerQuery], str] = LRU(1024)


def entry_key(org_id: int, query: CustomerQuery) -> str:
    """Return the key of one query's entry; equal queries in any order share it."""

    def make() -> str:
        digest = hashlib.blake2b(query.normalised_key().encode(), digest_size=12).hexdigest()
        account = query.account_id or "-"
        return f"{NAMESPACE}:c:{org_id}:{query.customer_id}:{query.source}:{account}:{digest}"

    return _keys.get_or_make((org_id, query), make)


def generation_key(org_id: int, customer_id: int) -> str:
    return f"{NAMESPACE}:gen:{org_id}:{customer_id}"


def kind_of(query: CustomerQuery) -> str:
    """Return the freshness kind of a query: "images", its one embed, "base", or the
    activity panel's kind ("activity.ledger")."""
    if isinstance(query, ActivityQuery):
        return query.kind
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
    """One part's cached answer as stored (a plain dict in the cache backend).

    `path` and `params` say what was sent upstream: the combined call the part came from.
    """

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
    org_id: int, queries: Iterable[CustomerQuery]
) -> dict[CustomerQuery, tuple[Entry | None, str]]:
    """Read several entries and their customers' generations in one cache round trip."""
    queries = list(queries)
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


@dataclass(frozen=True)
class Answer:
    """One part's slice of an upstream answer (its text and decoded body), ready to store."""

    query: CustomerQuery
    raw_text: str
    raw: dict[str, Any]


def write_many(
    org_id: int,
    answers: Iterable[Answer],
    *,
    request_id: str | None,
    path: str,
    params: list[tuple[str, str]],
    fetched_at: float,
    generation: str,
) -> dict[CustomerQuery, Entry]:
    """Store the parts of one answer, each with its own freshness; return what was kept.

    A part whose usable life is already over (an image URL about to expire) is not kept.
    """
    kept: dict[CustomerQuery, Entry] = {}
    by_timeout: dict[int, dict[str, Any]] = {}
    for answer in answers:
        kind = kind_of(answer.query)
        fresh, stale = windows(kind)
        fresh_until, stale_until = fetched_at + fresh, fetched_at + stale
        if kind == "images":
            expiry = image_expiry(records.Customer.from_raw(answer.raw))
            if expiry is not None:
                # Never serve a pre-signed URL past its expiry (less a margin for the viewer).
                usable_until = expiry - settings.CACHE_IMAGE_MARGIN_SECONDS
                fresh_until = min(fresh_until, usable_until)
                stale_until = min(stale_until, usable_until)
        timeout = stale_until - now()
        if timeout <= 0:
            continue
        entry = Entry(
            answer.raw_text,
            request_id,
            path,
            list(params),
            fetched_at,
            fresh_until,
            stale_until,
            generation,
        )
        kept[answer.query] = entry
        key = entry_key(org_id, answer.query)
        by_timeout.setdefault(max(1, int(timeout) + 1), {})[key] = entry.to_dict()
    # Parts of one answer usually share a lifetime: one round trip for all of them.
    for seconds, values in by_timeout.items():
        cache.set_many(values, timeout=seconds)
    return kept


def purge_customer(org_id: int, customer_id: int) -> None:
    """Orphan every cached entry of this customer (all sources, embeds and parameters)."""
    cache.set(generation_key(org_id, customer_id), secrets.token_hex(8), timeout=None)


def _failed_key(key: str) -> str:
    return f"{key}:failed"


def failed_refresh(key: str, entry: Entry) -> str:
    """Return why the last background refresh of this copy failed, or "" if it did not."""
    marker = cache.get(_failed_key(key))
    if isinstance(marker, dict) and marker.get("copy") == entry.fetched_at:
        return str(marker.get("reason", ""))
    return ""


def mark_failed_refresh(key: str, entry: Entry, reason: str) -> None:
    """Remember, briefly, that refreshing this copy failed; it labels the copy as stale and
    keeps background refreshes of a failing key to one per FAILED_REFRESH_SECONDS."""
    value = {"copy": entry.fetched_at, "reason": reason}
    cache.set(_failed_key(key), value, timeout=FAILED_REFRESH_SECONDS)


# Parsing the body into records costs more than the rest of a cache hit, so each process
# keeps the last few parsed parts, keyed by entry, fetch time and generation.
_parsed: LRU[tuple[str, float, str], records.Customer] = LRU(128)


def parsed(key: str, entry: Entry) -> records.Customer:
    """Return the entry's customer records, parsed once per process."""
    return _parsed.get_or_make(
        (key, entry.fetched_at, entry.generation),
        lambda: records.Customer.from_raw(json.loads(entry.raw_text)),
    )
