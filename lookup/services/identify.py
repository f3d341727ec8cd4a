"""Finding a customer by identifier: one lookup call whose answer the customer page reuses.

Capillary's `lookup/customerDetails` answers the same record as the by-ID call, so it is
asked for with the embeds and flags of the parts the customer page shows first, and its
answer is cut into those parts and stored under the customer's ID exactly as the page's
own call would have stored it: opening the customer costs no second call.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import partial

from lookup import services
from lookup.capillary import (
    CapillaryClient,
    CapillaryError,
    CustomerQuery,
    CustomerResult,
    IdentifierQuery,
    InvalidResponse,
    SearchPage,
    records,
)
from lookup.capillary.client import LOOKUP_DETAILS_PATH, SEARCH_PATH
from lookup.models import Org
from lookup.services import combine, store, upstream

# What a lookup is about for the breaker and the logs: never the identifier itself.
SUBJECT = "identifier lookup"


@dataclass(frozen=True)
class Match:
    """A customer an identifier named, in the source it was asked in."""

    customer_id: int
    source: str
    account_id: str
    customer: records.Customer
    fetched_at: float


def lookup(org: Org, identifier: IdentifierQuery, parts: Mapping[str, CustomerQuery]) -> Match:
    """Return the customer `identifier` names, storing the answer as the named parts.

    `parts` are the page's first parts for any customer (their customer ID is replaced by
    the one found). Raises the CapillaryError the lookup met.
    """
    groups = combine.plan(parts.values())
    call, members = groups[0]  # the page's first parts share one call
    result = upstream.run(org, SUBJECT, LOOKUP_DETAILS_PATH, partial(_details, identifier, call))
    found = result.customer.id
    if found is None:
        raise InvalidResponse(reason="wrong_shape", detail="lookup answer without a customer ID")
    where = {"customer_id": found, "source": identifier.source, "account_id": identifier.account_id}
    call = call.replace(**where)
    members = [q.replace(**where) for q in members]
    kept = services.keep(
        org,
        result,
        call,
        members,
        generation=store.read_many(org.pk, members)[members[0]][1],
        # What the page's raw tab shows as the request: never the identifier searched.
        sent=[(k, v) for k, v in result.params if k not in ("identifierName", "identifierValue")],
    )
    fetched_at = kept[members[0]].fetched_at
    return Match(found, identifier.source, identifier.account_id, result.customer, fetched_at)


def lookup_everywhere(
    org: Org, asked: Iterable[tuple[IdentifierQuery, Mapping[str, CustomerQuery]]]
) -> list[Match | CapillaryError]:
    """Look identifiers up at once (one per source); return each one's match or error."""
    asked = list(asked)
    futures = [
        services._group_pool.submit(contextvars.copy_context().run, outcome, org, *pair)
        for pair in asked[1:]
    ]
    outcomes = [outcome(org, *asked[0])] if asked else []
    return outcomes + [future.result() for future in futures]


def outcome(
    org: Org, identifier: IdentifierQuery, parts: Mapping[str, CustomerQuery]
) -> Match | CapillaryError:
    """Return `lookup`'s match, or the CapillaryError it raised."""
    try:
        return lookup(org, identifier, parts)
    except CapillaryError as exc:
        return exc


def _details(
    identifier: IdentifierQuery, call: CustomerQuery, client: CapillaryClient
) -> CustomerResult:
    return client.lookup_customer(identifier, call)


def search_names(org: Org, text: str, limit: int = 10) -> SearchPage:
    """Return the first customers whose name starts with `text` (Capillary's customer search)."""

    def send(client: CapillaryClient) -> SearchPage:
        return client.search_customers(text, limit=limit)

    return upstream.run(org, "name search", SEARCH_PATH, send)
