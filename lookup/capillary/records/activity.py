"""Typed, forgiving records for the activity endpoints: bills, coupons, ledger, goodwill.

Numbers come as floats, ints or strings ("350.000") and are all read as Decimal; dates
with an offset are aware, the ledger's offset-less ones ("2025-01-08 11:07:57.0") naive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from lookup.capillary.records.fields import parse_datetime, to_decimal

ZERO = Decimal(0)


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _s(value: Any) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _i(value: Any) -> int | None:
    number = to_decimal(value)
    return int(number) if number is not None and number == number.to_integral_value() else None


def _when(value: Any) -> datetime | None:
    """Return a date; offset-less text ("… 11:07:57.0") parses naive, as server-local time."""
    text = _s(value).strip()
    if text.endswith(".0") and " " in text:
        text = text[:-2]
    return parse_datetime(text)


def _warnings(raw: dict[str, Any]) -> list[str]:
    out = []
    for item in raw.get("warnings") or []:
        if isinstance(item, dict):
            out.append(_s(item.get("message")) or _s(item.get("code")))
        elif isinstance(item, str):
            out.append(item)
    return [w for w in out if w]


# -- transactions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgramPoints:
    """Points one bill earned in one program (BILL_POINTS' aggregated block)."""

    program: str
    regular: Decimal
    promised: Decimal
    promo: Decimal

    @property
    def total(self) -> Decimal:
        return self.regular + self.promised + self.promo


@dataclass(frozen=True)
class Transaction:
    """One bill of a customer's transaction list (no line items)."""

    id: int | None
    customer_id: int | None
    bill_number: str
    billing_time: datetime | None
    input_offset: str
    type: str
    return_type: str
    amount: Decimal | None
    gross_amount: Decimal | None
    discount: Decimal | None
    outlier_status: str
    notes: str
    store_code: str
    store_name: str
    # None when the answer carried no billPoints block at all (not asked, or not sent).
    points: tuple[ProgramPoints, ...] | None
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> Transaction:
        store = _d(raw.get("billingStore")) or _d(_d(raw.get("billDetails")).get("billingStore"))
        bill_points = raw.get("billPoints")
        points = None
        if isinstance(bill_points, dict):
            points = tuple(
                ProgramPoints(
                    _s(block.get("programName")),
                    to_decimal(_d(block.get("regularPoints")).get("points")) or ZERO,
                    to_decimal(_d(block.get("promisePoints")).get("points")) or ZERO,
                    to_decimal(_d(block.get("promoPoints")).get("points")) or ZERO,
                )
                for block in _l(bill_points.get("aggregatedBillPoints"))
            )
        return cls(
            id=_i(raw.get("id")),
            customer_id=_i(raw.get("customerId")),
            bill_number=_s(raw.get("billNumber")),
            billing_time=_when(raw.get("billingTime")),
            input_offset=_s(raw.get("billingTimeInputOffset")),
            type=_s(raw.get("type")).upper() or "REGULAR",
            return_type=_s(raw.get("returnType")),
            amount=to_decimal(raw.get("amount")),
            gross_amount=to_decimal(raw.get("grossAmount")),
            discount=to_decimal(raw.get("discount")),
            outlier_status=_s(raw.get("outlierStatus")),
            notes=_s(raw.get("notes")),
            store_code=_s(store.get("code")),
            store_name=_s(store.get("name")),
            points=points,
            raw=raw,
        )

    @property
    def points_earned(self) -> Decimal | None:
        """Return the points the bill earned in all programs, or None when not said."""
        if self.points is None:
            return None
        return sum((p.total for p in self.points), ZERO)

    @property
    def is_return(self) -> bool:
        return "RETURN" in self.type


@dataclass(frozen=True)
class TransactionPage:
    """One page of `GET /v2/customers/{id}/transactions`."""

    transactions: tuple[Transaction, ...]
    total: int | None
    offset: int
    limit: int
    warnings: tuple[str, ...] = ()

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> TransactionPage:
        paging = _d(raw.get("pagination"))
        return cls(
            transactions=tuple(Transaction.from_raw(item) for item in _l(raw.get("data"))),
            total=_i(paging.get("total")),
            offset=_i(paging.get("offset")) or 0,
            limit=_i(paging.get("limit")) or 20,
            warnings=tuple(_warnings(raw)),
        )


@dataclass(frozen=True)
class LineItem:
    item_code: str
    description: str
    qty: Decimal | None
    rate: Decimal | None
    amount: Decimal | None
    discount: Decimal | None
    returned: bool


@dataclass(frozen=True)
class Bill:
    """One bill with its line items (`GET /v2/transactions/{id}` or by bill number)."""

    transaction: Transaction
    line_items: tuple[LineItem, ...]
    payment_modes: tuple[tuple[str, Decimal | None], ...]
    ignore_points: bool
    note: str

    @classmethod
    def of_customer(cls, raw: dict[str, Any], customer_id: int) -> Bill | None:
        """Return this customer's bill from a by-ID or by-number answer, or None."""
        items = _l(raw["data"]) if isinstance(raw.get("data"), list) else [raw]
        for item in items:
            if _i(item.get("customerId")) == customer_id:
                return cls.from_raw(item)
        return None

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> Bill:
        if isinstance(raw.get("data"), list):  # by bill number: the bill inside a list
            raw = next(iter(_l(raw["data"])), {})
        details = _d(raw.get("billDetails"))
        flat = {**details, **{k: v for k, v in raw.items() if k != "billDetails"}}
        lines = []
        for item in _l(raw.get("lineItems")):
            d = _d(item.get("details"))
            lines.append(
                LineItem(
                    item_code=_s(d.get("itemCode")),
                    description=_s(d.get("description")),
                    qty=to_decimal(d.get("qty")),
                    rate=to_decimal(d.get("rate")),
                    amount=to_decimal(d.get("amount")),
                    discount=to_decimal(d.get("discount")),
                    returned=bool(_l(item.get("returnLineItemsDtos"))),
                )
            )
        modes = tuple(
            (_s(m.get("mode")), to_decimal(m.get("amount"))) for m in _l(raw.get("paymentModes"))
        )
        return cls(
            transaction=Transaction.from_raw(flat),
            line_items=tuple(lines),
            payment_modes=modes,
            ignore_points=raw.get("ignorePoints") is True,
            note=_s(details.get("note")),
        )


# -- coupons --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CouponRedemption:
    when: datetime | None
    transaction_number: str
    store_code: str
    store_name: str


@dataclass(frozen=True)
class Coupon:
    """One coupon issued to the customer (basic or detailed coupons answer)."""

    id: int | None
    code: str
    series_id: int | None
    series_name: str
    description: str
    discount_type: str
    discount_value: Decimal | None
    discount_upto: Decimal | None
    issued_on: datetime | None
    valid_till: datetime | None
    issued_at: str
    redemption_count: int
    redemptions_left: int | None
    redemptions: tuple[CouponRedemption, ...]

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> Coupon:
        redemptions = tuple(
            CouponRedemption(
                _when(r.get("date") or r.get("redeemedOnISO") or r.get("redeemedOn")),
                _s(r.get("transactionNumber")),
                _s(_d(r.get("redeemedAt")).get("code")),
                _s(_d(r.get("redeemedAt")).get("name")),
            )
            for r in _l(raw.get("redemptions")) or _l(raw.get("redemptionInfo"))
        )
        count = _i(raw.get("redemptionCount"))
        if count is None:
            count = len(redemptions) or (1 if raw.get("redeemed") is True else 0)
        discount_type = raw.get("couponDiscountType") or raw.get("discountType")
        return cls(
            id=_i(raw.get("id")),
            code=_s(raw.get("code")),
            series_id=_i(raw.get("seriesId")),
            series_name=_s(raw.get("seriesName")),
            description=_s(raw.get("description")),
            discount_type=_s(discount_type) if isinstance(discount_type, str) else "",
            discount_value=to_decimal(raw.get("discountValue")),
            discount_upto=to_decimal(raw.get("discountUpto")),
            issued_on=_when(
                raw.get("issuedOnISO") or raw.get("issuedOn") or raw.get("createdDate")
            ),
            # validTill is midnight; validTillDateTime the real end of the last day.
            valid_till=_when(raw.get("validTillDateTime") or raw.get("validTill")),
            issued_at=_s(_d(raw.get("issuedAt")).get("name")),
            redemption_count=count,
            redemptions_left=_i(raw.get("redemptionsLeft")),
            redemptions=redemptions,
        )

    def status(self, now: datetime) -> str:
        """Return "redeemed", "expired" or "active" (derived: the answer has no lifecycle)."""
        if self.redemption_count > 0 or self.redemptions_left == 0:
            return "redeemed"
        if self.valid_till is not None:
            till = (
                self.valid_till
                if self.valid_till.tzinfo
                else self.valid_till.replace(tzinfo=now.tzinfo)
            )
            if till < now:
                return "expired"
        return "active"


def coupons_from_raw(raw: dict[str, Any]) -> tuple[Coupon, ...]:
    """Return the coupons of a basic (entity.customers[].coupons) or detailed answer."""
    entity = raw.get("entity")
    if isinstance(entity, list):
        items = _l(entity)
    else:
        items = [
            c for customer in _l(_d(entity).get("customers")) for c in _l(customer.get("coupons"))
        ]
    return tuple(Coupon.from_raw(item) for item in items)


# -- points ledger --------------------------------------------------------------------------

# Ledger event name -> the kind the dashboard shows it as.
EVENT_KINDS = {
    "TransactionAdd": "earned",
    "TransactionUpdate": "earned",
    "DelayedAccrual": "earned",
    "TargetCompleted": "earned",
    "GenericEvent": "earned",
    "CustomerRegistration": "earned",
    "CustomerUpdate": "earned",
    "BulkAllocatePoints": "earned",
    "ReturnBill": "returned",
    "PointsRedemption": "redeemed",
    "VoucherRedemption": "redeemed",
    "PointsRedemptionReversal": "reversed",
    "PointsExpiry": "expired",
    "PointsTransfer": "transferred",
    "AllocateGoodwillPoints": "goodwill",
    "ManualPointsAdjustment": "adjusted",
}


@dataclass(frozen=True)
class LedgerEntry:
    """One credit or debit event of the points ledger."""

    event_log_id: int | None
    event_name: str
    created: datetime | None  # offset-less in the answer: server-local time
    net_points: Decimal
    credit: Decimal
    debit: Decimal
    programs: tuple[str, ...]
    transaction_id: int | None
    transaction_number: str
    store: str
    reason: str
    promotion: str
    store_code: str = ""
    till_code: str = ""
    # Set when the event's bill and store are withheld from this viewer (another store's).
    other_store: bool = False

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> LedgerEntry:
        credit = debit = ZERO
        programs: list[str] = []
        for entry in _l(raw.get("entryDetails")):
            if entry.get("alternateCurrencyName"):
                continue  # not points
            points = abs(to_decimal(entry.get("points")) or ZERO)
            kind = _s(entry.get("ledgerEntryType")).upper()
            if kind == "DEBIT":
                debit += points
            elif kind == "CREDIT":
                credit += points
            name = _s(entry.get("programName"))
            if name and name not in programs:
                programs.append(name)
        net = to_decimal(raw.get("netPointsOnEvent"))
        txn = _d(raw.get("transactionDetails"))
        details = _d(raw.get("eventDetails"))
        return cls(
            event_log_id=_i(raw.get("eventLogId")),
            event_name=_s(raw.get("eventName")),
            created=_when(raw.get("ledgerCreatedDate")),
            net_points=net if net is not None else credit - debit,
            credit=credit,
            debit=debit,
            programs=tuple(programs),
            transaction_id=_i(txn.get("transactionId")),
            transaction_number=_s(txn.get("transactionNumber")),
            store=_s(raw.get("store")),
            reason=_s(details.get("reason")),
            promotion=_s(details.get("promotionName")),
            store_code=_s(raw.get("storeCode")),
            till_code=_s(raw.get("tillCode")),
        )

    @property
    def kind(self) -> str:
        kind = EVENT_KINDS.get(self.event_name, "adjusted")
        if kind == "transferred":
            return "transferred in" if self.net_points >= 0 else "transferred out"
        if kind == "adjusted" and self.net_points < 0:
            return "deducted"
        return kind


@dataclass(frozen=True)
class Ledger:
    """One page of `GET /v2/pointsLedger/getCustomerLedgerInfo`."""

    entries: tuple[LedgerEntry, ...]
    page_number: int
    page_count: int
    total_entries: int | None
    warnings: tuple[str, ...] = ()

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> Ledger:
        details = _d(raw.get("ledgerDetails"))
        return cls(
            entries=tuple(LedgerEntry.from_raw(e) for e in _l(raw.get("ledgerEntries"))),
            page_number=_i(details.get("pageNumber")) or 0,
            page_count=_i(details.get("pageCount")) or 1,
            total_entries=_i(details.get("totalEntries")),
            warnings=tuple(_warnings(raw)),
        )


@dataclass(frozen=True)
class PointsTransfer:
    """Points sent to or received from another customer (the counterpart)."""

    transfer_id: int | None
    when: datetime | None  # offset-less in the answer: server-local time
    points: Decimal
    received: bool  # ADDITION (received) or DEDUCTION (sent)
    counterpart_id: int | None
    program: str
    notes: str
    # The counterpart's names as the answer gives them (often blank).
    counterpart_first_name: str = ""
    counterpart_last_name: str = ""

    @property
    def counterpart_name(self) -> str:
        return " ".join(n for n in (self.counterpart_first_name, self.counterpart_last_name) if n)

    @classmethod
    def from_raw(cls, raw: dict[str, Any], customer_id: int | None = None) -> PointsTransfer:
        received = _s(raw.get("transferType")).upper() == "ADDITION"
        other = _d(raw.get("transferredFrom" if received else "transferredTo"))
        counterpart = _i(other.get("userId"))
        if counterpart is None:
            counterpart = _i(raw.get("fromEntityId" if received else "toEntityId"))
        return cls(
            transfer_id=_i(raw.get("transferId")),
            when=_when(raw.get("pointsTransferDate")),
            points=abs(to_decimal(raw.get("pointsTransferred")) or ZERO),
            received=received,
            counterpart_id=counterpart,
            program=_s(raw.get("programName")),
            notes=_s(raw.get("notes")),
            counterpart_first_name=_s(other.get("firstName")).strip(),
            counterpart_last_name=_s(other.get("lastName")).strip(),
        )


def transfers_from_raw(raw: dict[str, Any]) -> tuple[PointsTransfer, ...]:
    return tuple(PointsTransfer.from_raw(item) for item in _l(raw.get("data")))


# -- goodwill -------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoodwillRequest:
    """One goodwill request; its two dates are shown as given (one may be IST labelled UTC)."""

    id: int | None
    request_id: int | None
    status: str
    goodwill_type: str
    reason: str
    comments: str
    asked_by: str
    added_on: datetime | None
    updated_on: datetime | None
    approved_value: Decimal | None
    program: str
    one_step: bool

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> GoodwillRequest:
        asked = _d(raw.get("addedBy")) or _d(raw.get("enteredBy"))
        return cls(
            id=_i(raw.get("id")),
            request_id=_i(raw.get("requestId")),
            status=_s(raw.get("goodwillStatus")).upper(),
            goodwill_type=_s(raw.get("goodwillType")).upper(),
            reason=_s(raw.get("reason")),
            comments=_s(raw.get("comments")),
            asked_by=_s(asked.get("name")) or _s(asked.get("code")),
            added_on=_when(raw.get("addedOn")),
            updated_on=_when(raw.get("updatedOn")),
            approved_value=to_decimal(raw.get("approvedValue")),
            program=_s(_d(raw.get("program")).get("programName")),
            one_step=raw.get("oneStep") is True,
        )


def goodwill_from_raw(raw: dict[str, Any]) -> tuple[GoodwillRequest, ...]:
    return tuple(GoodwillRequest.from_raw(item) for item in _l(raw.get("data")))
