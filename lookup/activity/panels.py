"""Each Activity panel's context: its query from the URL, and its records as shown."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lookup import privacy
from lookup.activity import reconcile, stores, timeline
from lookup.capillary import CapillaryError
from lookup.capillary import activity as q
from lookup.capillary.records.activity import (
    Coupon,
    Ledger,
    PointsTransfer,
    TransactionPage,
    coupons_from_raw,
    goodwill_from_raw,
    transfers_from_raw,
)
from lookup.inputs import whole_number

PANELS = ("timeline", "transactions", "coupons", "ledger", "goodwill")
MAX_OFFSET = 2**31 - 1


class BadFilter(ValueError):
    """A panel filter in the URL that cannot be used; `message` says what to fix."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def day(params: Mapping[str, str], name: str, label: str) -> dt.date | None:
    text = params.get(name, "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise BadFilter(f"{label} must be a date such as 2025-01-31.") from None


@dataclass(frozen=True)
class TransactionFilter:
    offset: int = 0
    start: dt.date | None = None
    end: dt.date | None = None
    type: str = ""

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> TransactionFilter:
        offset = whole_number(params.get("offset", "0") or "0", 0, MAX_OFFSET)
        if offset is None:
            raise BadFilter("Offset must be a whole number.")
        kind = params.get("type", "").strip().upper()
        if kind and kind not in q.BILL_TYPES:
            raise BadFilter(f"Type must be one of: {', '.join(q.BILL_TYPES)}.")
        start, end = day(params, "from", "From date"), day(params, "to", "To date")
        if start and end and start > end:
            raise BadFilter("The To date must not be before the From date.")
        return cls(offset, start, end, kind)

    def pairs(self, **changes: Any) -> list[tuple[str, str]]:
        values = {
            "offset": self.offset,
            "from": self.start,
            "to": self.end,
            "type": self.type,
            **changes,
        }
        return [(k, str(v)) for k, v in values.items() if v not in (None, "", 0)]


def transactions_query(customer_id: int, source: str, f: TransactionFilter) -> q.ActivityQuery:
    """Return the call behind one page of bills.

    Capillary's list filters by date but not by type (only the lookup form takes a
    `transactionType`, and only REGULAR or RETURN). With a type, the page is cut from the
    newest MAX_TRANSACTIONS bills of the date range, read in one call and cached as one
    part that every page and every type of that range shares.
    """
    if f.type:
        return q.transactions(
            customer_id, limit=q.MAX_TRANSACTIONS, start=f.start, end=f.end, source=source
        )
    return q.transactions(customer_id, offset=f.offset, start=f.start, end=f.end, source=source)


def panel_queries(customer_id: int, source: str) -> dict[str, q.ActivityQuery]:
    """Return the four list panels' queries as the tab first opens them."""
    return {
        "transactions": transactions_query(customer_id, source, TransactionFilter()),
        "coupons": q.coupons(customer_id, source),
        "ledger": q.ledger(customer_id, source),
        "goodwill": q.goodwill(customer_id, source),
    }


def transactions(data: Any, f: TransactionFilter, limit: set[str] | None) -> dict[str, Any]:
    """Return the page's rows (of one type, and for a store-limited viewer of his stores).

    Without a type the answer is the page; with one it is the window of bills that
    `transactions_query` read, and the page is cut from the bills of that type.
    """
    page = TransactionPage.from_raw(data.raw)
    rows = list(page.transactions)
    total = page.total or 0
    # Bills of the date range the type filter did not see (beyond the window).
    unread = 0
    if f.type:
        matching = [t for t in rows if t.type == f.type]
        unread = max(0, total - len(rows))
        total = len(matching)
        rows = matching[f.offset : f.offset + q.PAGE_SIZE]
    kept = stores.bills(rows, limit)
    hidden, shown = len(rows) - len(kept), kept
    return {
        "page": page,
        "total": total,
        "rows": [(t, reconcile.no_points_reason(t)) for t in shown],
        "hidden_other_stores": hidden,
        "unread": unread,
        "window": len(page.transactions),
        "prev_offset": max(0, f.offset - q.PAGE_SIZE) if f.offset > 0 else None,
        "next_offset": f.offset + q.PAGE_SIZE if f.offset + q.PAGE_SIZE < total else None,
        "shown_from": f.offset + 1 if rows else 0,
        "shown_to": f.offset + len(rows),
    }


def coupon_rows(
    data: Any,
    now: dt.datetime,
    mask: Callable[[str, list], str] | None,
    limit: set[str] | None = None,
) -> list[tuple[Coupon, str, str]]:
    """Return (coupon, status, code as this viewer may see it) for every coupon.

    `mask(code, json_path)` returns the masked code for a viewer who sees codes masked.
    """
    raw = data.raw
    entity = raw.get("entity")
    paths: list[list] = []
    if isinstance(entity, list):
        paths = [["entity", i, "code"] for i in range(len(entity))]
    elif isinstance(entity, dict):
        for ci, customer in enumerate(entity.get("customers") or []):
            for i, _coupon in enumerate((customer or {}).get("coupons") or []):
                paths.append(["entity", "customers", ci, "coupons", i, "code"])
    out = []
    for coupon, path in zip(stores.coupons(coupons_from_raw(raw), limit), paths, strict=False):
        code = mask(coupon.code, path) if mask and coupon.code else coupon.code
        out.append((coupon, coupon.status(now), code))
    return out


def masked_code(org_pk: int, customer_id: int, params: list[tuple[str, str]]):
    """Return a `mask(code, path)` that masks a coupon code with a signed reveal reference."""

    def mask(code: str, path: list) -> str:
        return privacy.Masked(
            privacy.mask_tail(code),
            kind="coupon",
            make_ref=lambda: privacy.make_ref(org_pk, customer_id, params, path),
        )

    return mask


def transfer_rows(data: Any, sees_pii: bool) -> list[tuple[PointsTransfer, str]]:
    """Return (transfer, the counterpart's name as this viewer may see it) for each transfer.

    Names are masked as the record's are ("M*** B***"); the counterpart's customer ID is
    shown as customer IDs are everywhere else.
    """
    out = []
    for transfer in transfers_from_raw(data.raw):
        name = transfer.counterpart_name
        if name and not sees_pii:
            parts = (transfer.counterpart_first_name, transfer.counterpart_last_name)
            name = privacy.Masked(
                " ".join(privacy.mask_for("name", p) for p in parts if p), kind="name"
            )
        out.append((transfer, name))
    return out


def ok_part(parts: Mapping[str, Any], name: str) -> Any:
    """Return a part's data, or None when it failed or was not fetched."""
    value = parts.get(name)
    return None if value is None or isinstance(value, CapillaryError) else value


def record_balance(record: Mapping[str, Any]) -> Decimal | None:
    """Return the record's points balance (its "points" part), or None when not read."""
    customer = getattr(ok_part(record, "points"), "customer", None)
    summary = customer.points_summary if customer is not None else None
    return summary.loyalty_points if summary is not None else None


def timeline_context(
    panels: Mapping[str, Any],
    record: Mapping[str, Any],
    kinds: list[str],
    until: dt.date | None,
    now: dt.datetime,
    limit: set[str] | None = None,
) -> dict[str, Any]:
    """Merge the panels that answered with the record's tier history; reconcile the balance.

    `record` holds the record's "points", "slabHistory" and "expirySchedules" parts;
    `limit` the viewer's store codes (None: every store), whose bills alone are named.
    """

    def ok(name: str) -> Any:
        return ok_part(panels, name)

    bills = (
        TransactionPage.from_raw(ok("transactions").raw).transactions if ok("transactions") else ()
    )
    ledger_page = Ledger.from_raw(ok("ledger").raw) if ok("ledger") else None
    entries, withheld = stores.ledger(ledger_page.entries if ledger_page else (), limit)
    coupons = stores.coupons(coupons_from_raw(ok("coupons").raw) if ok("coupons") else (), limit)
    goodwill = goodwill_from_raw(ok("goodwill").raw) if ok("goodwill") else ()
    history = getattr(ok_part(record, "slabHistory"), "customer", None)
    tiers = history.slab_history if history is not None else ()
    schedule = getattr(ok_part(record, "expirySchedules"), "customer", None)
    balance = record_balance(record)
    complete = ledger_page is None or ledger_page.page_count <= 1
    # A ledger of several pages: the newest page's balances hang on the record's balance.
    ledger_start = reconcile.ZERO if complete else None
    if not complete and balance is not None:
        ledger_start = balance - sum((e.net_points for e in entries), reconcile.ZERO)
    own_bills = stores.bills(bills, limit)
    events = timeline.build(
        transactions=own_bills,
        ledger=entries,
        ledger_start=ledger_start,
        tiers=tiers,
        coupons=coupons,
        goodwill=goodwill,
        expiring=schedule.expiry_schedules if schedule is not None else (),
        now=now,
    )
    reconciliation = None
    if ledger_page is not None:
        times = [t.billing_time for t in bills if t.billing_time is not None]
        reconciliation = reconcile.reconcile(
            ledger_page.entries,
            balance,
            first_bill=min(times) if times else None,
            complete=complete,
            total_events=ledger_page.total_entries,
        )
    return {
        "events": timeline.select(events, kinds, until),
        "event_count": len(events),
        "kinds": timeline.KINDS,
        "kinds_on": set(kinds) or set(timeline.KINDS),
        "until": until,
        "reconciliation": reconciliation,
        "other_store_events": withheld,
        "other_store_bills": len(bills) - len(own_bills),
        "failed": [
            (name, q.PANELS.get(name, name), value)
            for name, value in panels.items()
            if isinstance(value, CapillaryError)
        ],
    }
