"""Queries for a customer's activity endpoints: transactions, bills, coupons, ledger, goodwill.

Each query names one upstream GET (path and normalised parameters) for one customer, so
equal queries share a cache entry whatever order their parameters came in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import quote, urlencode

# Panel name -> what it is, in words (error cards, the raw tab).
PANELS = {
    "transactions": "Transactions (GET /v2/customers/{id}/transactions)",
    "bill": "Bill line items (GET /v2/transactions/{id})",
    "coupons": "Coupons (GET /v2/customers/coupons)",
    "ledger": "Points ledger (GET /v2/pointsLedger/getCustomerLedgerInfo)",
    "goodwill": "Goodwill requests (GET /v2/customers/{id}/goodwillRequest)",
    "transfers": "Points transfers (GET /v2/customers/{id}/pointsTransfers)",
}
TRANSACTION_EMBEDS = "BILL_STORE_DETAILS,BILL_POINTS"
BILL_TYPES = ("REGULAR", "RETURN", "NOT_INTERESTED", "NOT_INTERESTED_RETURN")
PAGE_SIZE = 20
# The most bills one transactions call returns; the list has no type filter, so a type
# filter reads this many at once and filters them.
MAX_TRANSACTIONS = 1000
LEDGER_PAGE_SIZE = 100  # the 2025 maximum (11029 above it)


@dataclass(frozen=True)
class ActivityQuery:
    """One GET of one customer's activity: `panel` names it, `path` and `pairs` are sent."""

    panel: str
    customer_id: int
    path: str
    pairs: tuple[tuple[str, str], ...] = ()
    source: str = "INSTORE"
    account_id: str = ""
    # The record's queries name their embeds; an activity query has none.
    embed: frozenset[str] = frozenset()
    # Capillary codes that mean "nothing to list" (an empty answer, cached like any other).
    empty_codes: frozenset[int] = frozenset()

    def params(self) -> list[tuple[str, str]]:
        return sorted(self.pairs)

    def normalised_key(self) -> str:
        return f"{self.panel}:{self.path}?{urlencode(self.params())}"

    @property
    def kind(self) -> str:
        """Return the freshness kind ("activity.transactions" ...) for CACHE_FRESH_OVERRIDES."""
        return f"activity.{self.panel}"


def transactions(
    customer_id: int,
    *,
    offset: int = 0,
    limit: int = PAGE_SIZE,
    start: date | None = None,
    end: date | None = None,
    source: str = "INSTORE",
) -> ActivityQuery:
    """Return one page of the customer's bills, newest first, with store and points."""
    pairs = [
        ("embed", TRANSACTION_EMBEDS),
        ("limit", str(limit)),
        ("offset", str(offset)),
        ("sortBy", "BILLING_TIME"),
        ("sortOrder", "DESC"),
    ]
    if start:
        pairs.append(("startDate", f"{start.isoformat()} 00:00:00"))
    if end:
        pairs.append(("endDate", f"{end.isoformat()} 23:59:59"))
    return ActivityQuery(
        "transactions",
        customer_id,
        f"/v2/customers/{customer_id}/transactions",
        tuple(pairs),
        source,
    )


def bill(
    customer_id: int, transaction_id: int, bill_type: str = "REGULAR", source: str = "INSTORE"
) -> ActivityQuery:
    """Return one bill with its line items (the answer says whose bill it is)."""
    bill_type = bill_type if bill_type in BILL_TYPES else "REGULAR"
    pairs = (("type", bill_type), ("tenders", "true"), ("credit_notes", "true"))
    return ActivityQuery("bill", customer_id, f"/v2/transactions/{transaction_id}", pairs, source)


def bill_by_number(customer_id: int, number: str, source: str = "INSTORE") -> ActivityQuery:
    """Return the bills with this number, any customer's (numbers repeat): check whose."""
    path = f"/v2/transactions/getByBillNumber/{quote(number, safe='')}"
    return ActivityQuery("bill", customer_id, path, (), source, empty_codes=frozenset({688}))


def coupons(customer_id: int, source: str = "INSTORE") -> ActivityQuery:
    """Return the customer's coupons in every status, with redemptions."""
    pairs = (("id", str(customer_id)), ("limit", "100"), ("offset", "0"), ("sort_order", "DESC"))
    return ActivityQuery("coupons", customer_id, "/v2/customers/coupons", pairs, source)


def ledger(customer_id: int, source: str = "INSTORE", page: int = 0) -> ActivityQuery:
    """Return the customer's points ledger, whole history (`offset` is a page number)."""
    pairs = (
        ("identifierName", "id"),
        ("identifierValue", str(customer_id)),
        ("source", source),
        ("limit", str(LEDGER_PAGE_SIZE)),
        ("offset", str(page)),
        ("isFilterBasedOnDate", "false"),
    )
    path = "/v2/pointsLedger/getCustomerLedgerInfo"
    return ActivityQuery("ledger", customer_id, path, pairs, source, empty_codes=frozenset({11003}))


def goodwill(customer_id: int, source: str = "INSTORE") -> ActivityQuery:
    """Return the customer's goodwill requests (the path is singular: goodwillRequest)."""
    return ActivityQuery(
        "goodwill", customer_id, f"/v2/customers/{customer_id}/goodwillRequest", (), source
    )


def transfers(customer_id: int, source: str = "INSTORE") -> ActivityQuery:
    """Return the points the customer sent to and received from others (no paging block)."""
    path = f"/v2/customers/{customer_id}/pointsTransfers"
    return ActivityQuery("transfers", customer_id, path, (), source, empty_codes=frozenset({814}))
