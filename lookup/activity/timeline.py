"""One timeline of a customer's activity: bills, points events, tiers, coupons, goodwill."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from lookup.activity.reconcile import no_points_reason, points, running_balances
from lookup.capillary.records import ExpirySchedule, SlabChange
from lookup.capillary.records.activity import Coupon, GoodwillRequest, LedgerEntry, Transaction
from lookup.templatetags.lookup_tags import amount

# Kind slug -> label, in the order the filter lists them.
KINDS = {
    "bill": "Bills",
    "points": "Points",
    "tier": "Tier changes",
    "coupon": "Coupons",
    "goodwill": "Goodwill",
}


@dataclass(frozen=True)
class Event:
    """One thing that happened; `server_time` marks a time given without an offset."""

    when: datetime
    kind: str
    title: str
    detail: str = ""
    points: Decimal | None = None
    balance_after: Decimal | None = None
    server_time: bool = False

    @property
    def day(self) -> date:
        return self.when.date()


def _aware(moment: datetime) -> tuple[datetime, bool]:
    """Return the moment with an offset; one without is read as the server's (UTC) time."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC), True
    return moment, False


def _bills(transactions: Iterable[Transaction]) -> Iterable[Event]:
    for t in transactions:
        if t.billing_time is None:
            continue
        earned = t.points_earned
        detail = " · ".join(
            x for x in (t.store_name, f"amount {amount(t.amount)}" if t.amount else "") if x
        )
        if earned is not None and not earned:
            reason = no_points_reason(t)
            detail = f"{detail} · no points{': ' + reason if reason else ''}"
        when, server = _aware(t.billing_time)
        label = {"REGULAR": "Bill", "RETURN": "Return"}.get(
            t.type, t.type.replace("_", " ").title()
        )
        yield Event(when, "bill", f"{label} {t.bill_number}", detail, earned or None, None, server)


def _ledger(entries: Sequence[LedgerEntry], start: Decimal | None) -> Iterable[Event]:
    """Points events, with the balance after each when the one before them is known."""
    for entry, after in running_balances(entries, start or Decimal(0)):
        balance = None if start is None else after
        if entry.created is None:
            continue
        when, server = _aware(entry.created)
        about = entry.transaction_number or entry.reason or entry.promotion
        if entry.other_store:
            about = "a bill at another store"
        title = f"Points {entry.kind}: {points(entry.net_points)}"
        yield Event(when, "points", title, about, entry.net_points, balance, server)


def _tiers(changes: Iterable[SlabChange]) -> Iterable[Event]:
    for change in changes:
        if change.changed_on is None:
            continue
        when, server = _aware(change.changed_on)
        moved = f"{change.from_tier or '—'} → {change.to_tier or '—'}"
        yield Event(
            when,
            "tier",
            f"Tier {change.type.lower() or 'change'}: {moved}",
            change.notes,
            None,
            None,
            server,
        )


def _expiring(schedules: Iterable[ExpirySchedule], now: datetime) -> Iterable[Event]:
    """Points due to expire (the record's expiry schedule), from today on."""
    for schedule in schedules:
        if schedule.expiry_date is None or not schedule.points:
            continue
        when, server = _aware(schedule.expiry_date)
        if when >= now:
            title = f"Points expiring: {points(schedule.points)}"
            yield Event(when, "points", title, "expiry schedule", -schedule.points, None, server)


def _coupons(coupons: Iterable[Coupon], now: datetime) -> Iterable[Event]:
    for c in coupons:
        name = c.description or c.series_name or f"series {c.series_id}"
        if c.issued_on is not None:
            when, server = _aware(c.issued_on)
            yield Event(when, "coupon", f"Coupon issued: {name}", c.issued_at, None, None, server)
        for r in c.redemptions:
            if r.when is not None:
                when, server = _aware(r.when)
                detail = " · ".join(x for x in (r.store_name, r.transaction_number) if x)
                yield Event(when, "coupon", f"Coupon redeemed: {name}", detail, None, None, server)
        if c.status(now) == "expired" and c.valid_till is not None:
            when, server = _aware(c.valid_till)
            yield Event(when, "coupon", f"Coupon expired unused: {name}", "", None, None, server)


def _goodwill(requests: Iterable[GoodwillRequest]) -> Iterable[Event]:
    for r in requests:
        if r.added_on is None:
            continue
        asked = f"{r.goodwill_type.lower()} goodwill" if r.goodwill_type else "goodwill"
        value = f" ({points(r.approved_value)} approved)" if r.approved_value else ""
        detail = " · ".join(
            x for x in (r.reason, f"asked by {r.asked_by}" if r.asked_by else "") if x
        )
        when, server = _aware(r.added_on)
        yield Event(
            when,
            "goodwill",
            f"{asked.capitalize()} {r.status.lower()}{value}",
            detail,
            None,
            None,
            server,
        )


def build(
    *,
    transactions: Sequence[Transaction] = (),
    ledger: Sequence[LedgerEntry] = (),
    ledger_start: Decimal | None = Decimal(0),
    tiers: Sequence[SlabChange] = (),
    coupons: Sequence[Coupon] = (),
    goodwill: Sequence[GoodwillRequest] = (),
    expiring: Sequence[ExpirySchedule] = (),
    now: datetime | None = None,
) -> list[Event]:
    """Return every event, newest first."""
    now = now or datetime.now(UTC)
    events = [
        *_bills(transactions),
        *_ledger(ledger, ledger_start),
        *_tiers(tiers),
        *_coupons(coupons, now),
        *_goodwill(goodwill),
        *_expiring(expiring, now),
    ]
    return sorted(events, key=lambda e: e.when, reverse=True)


def select(events: Sequence[Event], kinds: Iterable[str], until: date | None) -> list[Event]:
    """Return the events of these kinds, starting at `until` (jump to a date) going back."""
    wanted = set(kinds) or set(KINDS)
    return [e for e in events if e.kind in wanted and (until is None or e.day <= until)]
