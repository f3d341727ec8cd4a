"""The points-history panel a page at a time, with the balance after each event.

Capillary's ledger comes newest first, LEDGER_PAGE_SIZE events a page (`offset` is a page
number). Each page is its own cached part, and a page's balances need only that page and
one anchor: for a ledger of one page, zero before its oldest event (the ledger's own
sums); for the first page of a longer one, the record's balance after its newest event;
for any other page, the anchor the page next to it worked out, carried in the Older or
Newer link and signed so that it cannot be made up. A page opened any other way shows its
events without balances, and says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core import signing

from lookup.activity import reconcile, stores
from lookup.activity.panels import BadFilter
from lookup.capillary import activity as q
from lookup.capillary.records.activity import Ledger
from lookup.inputs import whole_number

SALT = "lookup.activity.ledger-balance"
MAX_PAGE = 100_000
# A carried balance is good while the pages it came from are: a new event moves them.
ANCHOR_MAX_AGE = 3600  # seconds


@dataclass(frozen=True)
class Anchor:
    """A page's known balance: after its newest event, or before its oldest."""

    side: str  # "after" or "before"
    value: Decimal


@dataclass(frozen=True)
class LedgerPage:
    """Which page of the ledger to show, and the balance carried to it (if any)."""

    page: int = 0
    anchor: Anchor | None = None
    expired: bool = False  # a carried balance too old to trust
    token: str = ""  # the signed balance as the link carried it

    def pairs(self) -> list[tuple[str, str]]:
        """Return this page's URL parameters (for its Retry link)."""
        out = [("page", str(self.page))] if self.page else []
        return out + ([("balance", self.token)] if self.token else [])

    @classmethod
    def parse(cls, params: Mapping[str, str], customer_id: int) -> LedgerPage:
        page = whole_number(params.get("page", "0") or "0", 0, MAX_PAGE)
        if page is None:
            raise BadFilter(f"Page must be a whole number from 0 to {MAX_PAGE:,}.")
        token = params.get("balance", "").strip()
        if not token or page == 0:
            return cls(page)
        try:
            value = signing.loads(token, salt=SALT, max_age=ANCHOR_MAX_AGE)
        except signing.SignatureExpired:
            return cls(page, expired=True, token=token)
        except signing.BadSignature:
            raise BadFilter(
                "This points-history link is damaged: open the points history from its first page."
            ) from None
        try:
            owner, at, side, number = value
            anchor = Anchor(side, Decimal(number))
        except (TypeError, ValueError, InvalidOperation):
            raise BadFilter("This points-history link is damaged.") from None
        if owner != customer_id or at != page or side not in ("after", "before"):
            raise BadFilter("This points-history link belongs to another page or customer.")
        return cls(page, anchor, token=token)


def carry(customer_id: int, page: int, side: str, value: Decimal) -> str:
    """Return the signed balance a link carries to `page`."""
    return signing.dumps([customer_id, page, side, str(value)], salt=SALT, compress=True)


def needs_record_balance(at: LedgerPage, page: Ledger) -> bool:
    """Return whether this page's balances hang on the record's balance (first of several)."""
    return at.page == 0 and page.page_count > 1


def _link(customer_id: int, page: int | None, side: str, balance: Decimal | None) -> Any:
    """Return the URL parameters of a link to `page` carrying its balance, or None."""
    if page is None:
        return None
    pairs = [("page", str(page))] if page else []
    if page and balance is not None:
        pairs.append(("balance", carry(customer_id, page, side, balance)))
    return pairs


def context(
    page: Ledger,
    at: LedgerPage,
    customer_id: int,
    record_balance: Decimal | None,
    limit: set[str] | None,
) -> dict[str, Any]:
    """Return the page's rows with balances, and the anchors its Older and Newer links carry."""
    entries, withheld = stores.ledger(page.entries, limit)
    net = sum((e.net_points for e in entries), reconcile.ZERO)
    start: Decimal | None = None  # the balance before the page's oldest event
    anchored = ""
    if page.page_count <= 1 and at.page == 0:
        start, anchored = reconcile.ZERO, "whole"
    elif at.page == 0 and record_balance is not None:
        start, anchored = record_balance - net, "record"
    elif at.anchor is not None:
        start = at.anchor.value if at.anchor.side == "before" else at.anchor.value - net
        anchored = "carried"
    rows = reconcile.running_balances(entries, start=start or reconcile.ZERO)
    if start is None:
        rows = [(entry, None) for entry, _balance in rows]
    older = at.page + 1 if at.page + 1 < page.page_count and entries else None
    newer = at.page - 1 if at.page > 0 else None
    return {
        "ledger": page,
        "ledger_rows": rows,
        "ledger_anchored": anchored,
        "ledger_expired": at.expired,
        "record_balance": record_balance,
        "other_store_events": withheld,
        "ledger_page": at.page,
        "shown_from": at.page * q.LEDGER_PAGE_SIZE + 1 if entries else 0,
        "shown_to": at.page * q.LEDGER_PAGE_SIZE + len(entries),
        "older_pairs": _link(customer_id, older, "after", start),
        # The newer page starts where this one ends.
        "newer_pairs": _link(customer_id, newer, "before", None if start is None else start + net),
    }
