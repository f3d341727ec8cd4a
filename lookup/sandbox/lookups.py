"""Customer lookup by identifier and name search, over the same customers as the by-ID endpoint.

`GET /v2/customers/lookup` answers the customer ID, `GET /v2/customers/lookup/customerDetails`
the record as the by-ID endpoint renders it, and `GET /v2/customers/search?q=` a prefix
search over names and identifiers across every source.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode

from .data import GENERATED_RANGE, SEED_IDS, cached_customer, today_utc
from .faults import FAULT_BY_ID
from .generate import search_entry
from .identifiers import candidates
from .params import MULTI_ACCOUNT_SOURCES, ApiError

# identifierName as sent (case-insensitive) -> the identifier type in a profile.
IDENTIFIER_TYPES = {
    "mobile": "mobile",
    "email": "email",
    "externalid": "externalId",
    "cardnumber": "cardNumber",
    "cardexternalid": "cardExternalId",
    "wechat": "wechat",
    "line": "line",
}
LOOKUP_SOURCES = ("INSTORE", "MARTJACK", "WECHAT", "LINE", "ALL")
IDENTIFIER_PARAMS = ("identifiername", "identifiervalue")
NOT_FOUND = ApiError(404, 8015, "Customer not found for the given identifiers")
NOT_IN_SOURCE = ApiError(400, 8065, "User not found for given source")
SEARCH_MAX_LIMIT = 100


def split_query(query: str) -> tuple[dict[str, str], str]:
    """Return the identifier parameters (lower-cased names) and the rest of the query."""
    pairs = parse_qsl(query, keep_blank_values=True)
    mine = {
        k.lower(): v for k, v in pairs if k.lower() in (*IDENTIFIER_PARAMS, "source", "accountid")
    }
    rest = [(k, v) for k, v in pairs if k.lower() not in IDENTIFIER_PARAMS]
    return mine, urlencode(rest)


def _matches(profile: dict[str, Any], kind: str, value: str) -> bool:
    for identifier in profile.get("identifiers") or []:
        if identifier.get("type") != kind:
            continue
        stored = str(identifier.get("value", ""))
        if stored == value or (kind == "email" and stored.lower() == value.lower()):
            return True
    return False


def _card_matches(customer_base: dict[str, Any], kind: str, value: str) -> bool:
    key = "cardNumber" if kind == "cardNumber" else "cardExternalId"
    return any(str(card.get(key, "")) == value for card in customer_base.get("cardDetails") or [])


def _holds(customer_id: int, kind: str, value: str, source: str, account: str | None, day: date):
    """Return (in the asked source, in any source) for one customer and identifier."""
    customer = cached_customer(customer_id, day)
    if customer is None:
        return False, False
    profiles = customer.base.get("profiles") or []
    if kind in ("cardNumber", "cardExternalId"):
        held = _card_matches(customer.base, kind, value)
        # Cards belong to the loyalty account, which the INSTORE profile holds.
        in_source = held and any(
            source in ("ALL", p.get("source")) for p in profiles if p.get("source") == "INSTORE"
        )
        return in_source, held
    anywhere = in_source = False
    for profile in profiles:
        if not _matches(profile, kind, value):
            continue
        anywhere = True
        if source in ("ALL", profile.get("source")) and (
            account is None
            or profile.get("source") not in MULTI_ACCOUNT_SOURCES
            or profile.get("accountId") == account
        ):
            in_source = True
    return in_source, anywhere


def resolve(query: str, day: date | None = None) -> int:
    """Return the customer ID an identifier lookup names, or raise the ApiError it meets."""
    params, _rest = split_query(query)
    source = params.get("source", "").strip().upper()
    if not source:
        raise ApiError(400, 8001, "Source not passed")
    if source not in LOOKUP_SOURCES:
        raise ApiError(400, 8003, "Invalid source")
    account = params.get("accountid", "").strip() or None
    if source in MULTI_ACCOUNT_SOURCES and account is None:
        raise ApiError(400, 8045, "Account id not passed")
    kind = IDENTIFIER_TYPES.get(params.get("identifiername", "").strip().lower())
    if kind is None:
        raise ApiError(400, 8013, "Invalid identifier")
    value = params.get("identifiervalue", "").strip()
    if not value:
        raise ApiError(400, 8093, "Identifier value not passed")
    day = day or today_utc()
    name = {"cardNumber": "cardnumber"}.get(kind, kind)
    elsewhere = False
    for customer_id in [*SEED_IDS, *candidates(name, value)]:
        if customer_id in FAULT_BY_ID and kind in ("mobile", "email", "externalId"):
            return customer_id  # the fault answers as the by-ID endpoint would
        in_source, anywhere = _holds(customer_id, kind, value, source, account, day)
        if in_source:
            return customer_id
        elsewhere = elsewhere or anywhere
    raise NOT_IN_SOURCE if elsewhere else NOT_FOUND


@lru_cache(maxsize=2)
def _index(day: date) -> tuple[dict[str, Any], ...]:
    """Return every customer's names and sources (built once a day, about 0.2 s)."""
    entries = [search_entry(customer_id, day) for customer_id in GENERATED_RANGE]
    for customer_id in SEED_IDS:
        customer = cached_customer(customer_id, day)
        profiles = customer.base.get("profiles") or [] if customer else []
        first = profiles[0] if profiles else {}
        entries.append(
            {
                "id": customer_id,
                "first": first.get("firstName") or "",
                "last": first.get("lastName") or "",
                "sources": [(p.get("source", ""), p.get("accountId", "")) for p in profiles],
            }
        )
    return tuple(entries)


def search(query: str, day: date | None = None) -> dict[str, Any]:
    """Answer `GET /v2/customers/search`: customers whose first, last or full name starts with q."""
    params = {k.lower(): v for k, v in parse_qsl(query, keep_blank_values=True)}
    q = params.get("q", "").strip().casefold()
    if not q:
        raise ApiError(400, 8002, "No identifiers passed")
    try:
        limit = int(params.get("limit") or 10)
        offset = int(params.get("offset") or 0)
    except ValueError:
        raise ApiError(400, 8101, "Invalid limit or offset") from None
    if not 1 <= limit <= SEARCH_MAX_LIMIT or offset < 0:
        raise ApiError(400, 8102, "Limit must be from 1 to 100")
    hits = []
    for entry in _index(day or today_utc()):
        matched = [
            (field, entry[key])
            for field, key in (("firstName", "first"), ("lastName", "last"))
            if entry[key].casefold().startswith(q)
        ]
        full = f"{entry['first']} {entry['last']}"
        if not matched and " " in q and full.casefold().startswith(q):
            matched = [("firstName", entry["first"]), ("lastName", entry["last"])]
        if matched and entry["sources"]:
            hits.append((entry, matched))
    page = hits[offset : offset + limit]
    data = [
        {
            "userId": entry["id"],
            "matchedIdentifiers": [
                {"idType": field, "idValue": value, "source": source, "accountId": account}
                for field, value in matched
                for source, account in entry["sources"][:1]
            ],
            "profiles": [
                {"source": source, "firstName": entry["first"], "lastName": entry["last"]}
                for source, _account in entry["sources"]
            ],
        }
        for entry, matched in page
    ]
    return {
        "pagination": {"limit": limit, "offset": offset, "total": len(hits)},
        "data": data,
        "warnings": [],
        "errors": [],
    }
