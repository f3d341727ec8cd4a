"""What a store-limited viewer sees of other stores' activity: the points, never the bill.

A store manager's grant can limit him to his stores' bills. Other stores' bills are left
out of lists of bills; in the points ledger (and the timeline built from it) an event of
another store keeps its date and points, so the running balance and its explanation stay
true, but loses its bill number, transaction, store and till.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from lookup.capillary.records.activity import Coupon, LedgerEntry, Transaction


def is_other(store_code: str, stores: set[str] | None) -> bool:
    """Return whether a store code is outside the viewer's stores (None: every store is his)."""
    return stores is not None and store_code.strip().upper() not in stores


def bills(transactions: Iterable[Transaction], stores: set[str] | None) -> list[Transaction]:
    """Return the bills of the viewer's stores."""
    return [t for t in transactions if not is_other(t.store_code, stores)]


def ledger(
    entries: Iterable[LedgerEntry], stores: set[str] | None
) -> tuple[list[LedgerEntry], int]:
    """Return the entries with other stores' bills withheld, and how many were withheld.

    An event names a store or a bill: it is another store's unless its store code is one
    of the viewer's (an event with a bill but no store code cannot be shown to be his).
    """
    out, withheld = [], 0
    for entry in entries:
        names_one = entry.store_code or entry.store or entry.transaction_number
        if stores is not None and names_one and is_other(entry.store_code, stores):
            entry = dataclasses.replace(
                entry,
                transaction_id=None,
                transaction_number="",
                store="",
                store_code="",
                till_code="",
                other_store=True,
            )
            withheld += 1
        out.append(entry)
    return out, withheld


def coupons(items: Iterable[Coupon], stores: set[str] | None) -> list[Coupon]:
    """Return the coupons with redemptions at other stores stripped of their bill and store."""
    if stores is None:
        return list(items)
    out = []
    for coupon in items:
        redemptions = tuple(
            dataclasses.replace(r, transaction_number="", store_code="", store_name="another store")
            if is_other(r.store_code, stores)
            else r
            for r in coupon.redemptions
        )
        out.append(dataclasses.replace(coupon, redemptions=redemptions))
    return out
