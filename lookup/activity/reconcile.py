"""Why the balance is what it is: the ledger's events against the record's balance, in words."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from lookup.capillary.records.activity import LedgerEntry, Transaction

ZERO = Decimal(0)
# Ledger kinds in the order a sentence names them.
SENTENCE_ORDER = (
    ("earned", "earned"),
    ("goodwill", "goodwill"),
    ("adjusted", "adjusted"),
    ("transferred in", "transferred in"),
    ("reversed", "redemptions reversed"),
    ("redeemed", "redeemed"),
    ("returned", "returned with bills"),
    ("expired", "expired"),
    ("deducted", "deducted"),
    ("transferred out", "transferred out"),
)


def points(value: Decimal) -> str:
    """Return points as people write them: 12,400 or 12,400.5."""
    value = abs(value)
    text = f"{value:,.3f}".rstrip("0").rstrip(".")
    return text or "0"


@dataclass(frozen=True)
class Reconciliation:
    """The ledger's totals by kind, the balance they make, and what that says."""

    totals: tuple[tuple[str, Decimal], ...]  # (words, points as signed in the ledger)
    ledger_balance: Decimal
    balance: Decimal | None  # the record's loyaltyPoints (None when it was not read)
    first_event: datetime | None
    first_bill: datetime | None
    complete: bool  # the whole ledger was read (not only its first page)
    read: int = 0  # events read
    total_events: int | None = None  # events in the whole ledger, as its answer says

    @property
    def gap(self) -> Decimal | None:
        return None if self.balance is None else self.balance - self.ledger_balance

    @property
    def agrees(self) -> bool:
        return self.gap == 0

    @property
    def short_window(self) -> bool:
        """Whether the ledger starts after the customer's first bill (older events missing)."""
        if self.first_event is None or self.first_bill is None:
            return False
        first_bill = self.first_bill.replace(tzinfo=None)
        return self.first_event.replace(tzinfo=None).date() > first_bill.date()

    def sentence(self) -> str:
        """Return the reconciliation in words ("earned 12,400, redeemed 3,000: balance 9,400, matches")."""
        parts = [f"{words} {points(value)}" for words, value in self.totals if value]
        told = ", ".join(parts) if parts else "no points events"
        if not self.complete:
            # Set against the balance, the newest page alone would show a made-up gap.
            of = f" of {points(Decimal(self.total_events))}" if self.total_events else ""
            net = self.ledger_balance
            text = (
                f"The ledger's newest {points(Decimal(self.read))}{of} events: {told} "
                f"({'+' if net >= 0 else '−'}{points(net)} in all). "
                "Older events are on its other pages, so the balance"
            )
            if self.balance is not None:
                text += f" ({points(self.balance)})"
            return (
                text + " is not checked against them here; the points history pages through them."
            )
        if self.balance is None:
            return f"The ledger shows {told}: {points(self.ledger_balance)} in all. The record gives no points balance to compare it with."
        if self.agrees:
            return f"{told.capitalize()}: balance {points(self.balance)}, matches."
        gap = self.gap or ZERO
        more = "more" if gap > 0 else "fewer"
        text = (
            f"{told.capitalize()}: the ledger adds up to {points(self.ledger_balance)}, "
            f"but the balance is {points(self.balance)} ({points(gap)} {more} than the ledger explains)."
        )
        if self.short_window:
            day = self.first_event.date().isoformat() if self.first_event else ""
            text += (
                f" The ledger starts on {day}, after the customer's first bill: "
                "events before then are not in it."
            )
        else:
            text += " An event is missing from the ledger, or one not yet processed."
        return text


def reconcile(
    entries: Sequence[LedgerEntry],
    balance: Decimal | None,
    *,
    first_bill: datetime | None = None,
    complete: bool = True,
    total_events: int | None = None,
) -> Reconciliation:
    """Add the ledger's events up by kind and set them against the record's balance."""
    by_kind: dict[str, Decimal] = {}
    for entry in entries:
        by_kind[entry.kind] = by_kind.get(entry.kind, ZERO) + entry.net_points
    totals = tuple((words, by_kind[kind]) for kind, words in SENTENCE_ORDER if kind in by_kind)
    dates = [e.created for e in entries if e.created is not None]
    return Reconciliation(
        totals=totals,
        ledger_balance=sum((e.net_points for e in entries), ZERO),
        balance=balance,
        first_event=min(dates) if dates else None,
        first_bill=first_bill,
        complete=complete,
        read=len(entries),
        total_events=total_events,
    )


def running_balances(
    entries: Sequence[LedgerEntry], start: Decimal = ZERO
) -> list[tuple[LedgerEntry, Decimal]]:
    """Return newest-first entries each with the balance after it, from `start` before the oldest."""
    oldest_first = sorted(entries, key=lambda e: (e.created is None, e.created or datetime.min))
    total = start
    out = []
    for entry in oldest_first:
        total += entry.net_points
        out.append((entry, total))
    return list(reversed(out))


def no_points_reason(transaction: Transaction) -> str:
    """Return what the answer itself says about a bill that earned no points, or "".

    Only what Capillary states: the bill's type and outlier status. Anything else is
    not guessed at.
    """
    if transaction.points_earned:
        return ""
    if transaction.type.startswith("NOT_INTERESTED") or transaction.type == "NI_MIXED":
        return "The customer declined loyalty on this bill (type NOT_INTERESTED)."
    if transaction.is_return:
        return "This is a return: it takes points back rather than earning them."
    status = transaction.outlier_status.upper()
    if status and status != "NORMAL":
        return f"Capillary marks this bill {status}, outside normal points."
    return ""
