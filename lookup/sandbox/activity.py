"""The activity endpoints: transactions, bills, coupons, points ledger and goodwill requests.

Built per customer from the record the sandbox already serves, so they agree with it:
the REGULAR bills add up to `lifetimePurchases` (else the summary's `cumulativePurchases`), and the ledger's events (bills'
points, returns, redemptions, expiries, adjustments, goodwill) add up to `loyaltyPoints`.
One in thirteen shops often (`FREQUENT_EVERY`): its ledger runs to more than one page.
Some customers deliberately do not add up: one in seven misses a redemption in its
ledger (`LEDGER_GAP`), another one in seven has a ledger that keeps only the last
`SHORT_WINDOW_DAYS` days (`LEDGER_SHORT`). Deterministic for a customer and a day.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, unquote

from .data import SEED_IDS, cached_customer
from .jsonout import raw_value
from .model import iso

LEDGER_GAP, LEDGER_SHORT = 3, 5  # customer_id % 7
# Customers whose ID divides by this shop often: FREQUENT_BILLS bills, so their ledger runs
# past one page of 100 events (and still adds up).
FREQUENT_EVERY, FREQUENT_BILLS = 13, 130
SHORT_WINDOW_DAYS = 180
HISTORY_DAYS = 720
# Bill IDs carry their customer: customer_id * BILL_ID_SPAN + the bill's number.
BILL_ID_SPAN = 1000
PROGRAM = "DocDemoDefaultProgram"
STORES = (("doc123", "DocStore"), ("mum01", "Mumbai Central"), ("blr02", "Bangalore Indiranagar"))
ITEMS = ("Television 55in", "Headphones", "Coffee beans 1kg", "T-shirt", "Rice 5kg", "Kettle")

_TRANSACTIONS = re.compile(r"^/v2/customers/(\d+)/transactions/?$")
_GOODWILL = re.compile(r"^/v2/customers/(\d+)/goodwillRequest/?$")
_TRANSFERS = re.compile(r"^/v2/customers/(\d+)/pointsTransfers/?$")
TRANSFERS_EVERY = 11  # customers whose ID divides by this sent and received points
_BILL = re.compile(r"^/v2/transactions/(\d+)/?$")
_BILL_NUMBER = re.compile(r"^/v2/transactions/getByBillNumber/([^/]+)/?$")
_NUMBER = re.compile(r"^B(\d{5})-(\d{3})$")
_COUPONS = "/v2/customers/coupons"
_LEDGER = "/v2/pointsLedger/getCustomerLedgerInfo"
CENT = Decimal("0.01")


def panel_of(path: str) -> tuple[str, str] | None:
    """Return (panel, the ID in the path or "") for an activity path, or None."""
    for name, pattern in (
        ("transactions", _TRANSACTIONS),
        ("goodwill", _GOODWILL),
        ("transfers", _TRANSFERS),
        ("bill", _BILL),
        ("bill_number", _BILL_NUMBER),
    ):
        match = pattern.match(path)
        if match:
            return name, match.group(1)
    if path.rstrip("/") == _COUPONS:
        return "coupons", ""
    if path.rstrip("/") == _LEDGER:
        return "ledger", ""
    return None


def customer_of(panel: str, path_id: str, query: str) -> int | None:
    """Return the customer an activity request is about (for faults and call counts)."""
    params = _params(query)
    if panel in ("transactions", "goodwill", "transfers"):
        return int(path_id)
    if panel == "bill":
        return int(path_id) // BILL_ID_SPAN
    if panel == "bill_number":
        return None  # bill numbers are not one customer's
    text = params.get("id" if panel == "coupons" else "identifierValue", "")
    return int(text) if text.isdigit() else None


def _params(query: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}


def _error(status: int, code: int, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"errors": [{"status": False, "code": code, "message": message}]}


def to_decimal(value: Any) -> Decimal | None:
    """Return a number sent as int, float or text as a Decimal, or None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value).strip())
    except ArithmeticError:
        return None


def _num(value: Decimal) -> float:
    return float(value)


@dataclass
class Activity:
    """One customer's activity, as the endpoints serve it."""

    bills: list[dict[str, Any]]
    ledger: list[dict[str, Any]]
    coupons: list[dict[str, Any]]
    goodwill: list[dict[str, Any]]
    transfers: list[dict[str, Any]]


def _spread(total: Decimal, parts: int, rng: random.Random, step: Decimal) -> list[Decimal]:
    """Split `total` into `parts` positive amounts (multiples of `step`) that add up to it."""
    if parts <= 0:
        return []
    weights = [rng.uniform(0.3, 1.7) for _ in range(parts)]
    scale = sum(weights)
    out = [(total * Decimal(w / scale)).quantize(step, ROUND_DOWN) for w in weights]
    out[-1] = total - sum(out[:-1])
    return out


@lru_cache(maxsize=256)
def build_activity(customer_id: int, today: date) -> Activity | None:
    """Return the customer's activity (None for a customer the sandbox does not know)."""
    customer = cached_customer(customer_id, today)
    if customer is None:
        return None
    rng = random.Random(customer_id * 7919 + 17)
    summary = customer.points_summary or {}
    # The record's lifetimePurchases (what the header shows), else the points summary's.
    lifetime_purchases = raw_value(
        (customer.base.get("loyaltyInfo") or {}).get("lifetimePurchases")
    )
    purchases = to_decimal(lifetime_purchases) or to_decimal(summary.get("cumulativePurchases"))
    purchases = purchases.quantize(CENT) if purchases and purchases > 0 else Decimal(0)
    lifetime = Decimal(str(summary.get("lifetimePoints") or 0)).quantize(Decimal(1))
    redeemed = Decimal(str(summary.get("redeemed") or 0)).quantize(Decimal(1))
    expired = Decimal(str(summary.get("expired") or 0)).quantize(Decimal(1))
    returned = Decimal(str(summary.get("returned") or 0)).quantize(Decimal(1))
    adjusted = Decimal(str(summary.get("adjusted") or 0)).quantize(Decimal(1))
    now = datetime(today.year, today.month, today.day, 9, 0, tzinfo=UTC)
    start = now - timedelta(days=HISTORY_DAYS)

    def moment() -> datetime:
        return start + timedelta(seconds=rng.randrange(HISTORY_DAYS * 86400 - 86400))

    goodwill_points = (lifetime // 20) if lifetime > 200 else Decimal(0)
    earned_on_bills = lifetime - goodwill_points
    count = 0 if purchases <= 0 else max(3, min(60, int(purchases // 6000)))
    if count and customer_id % FREQUENT_EVERY == 0:
        count = FREQUENT_BILLS
    amounts = _spread(purchases, count, rng, CENT)
    points = _spread(earned_on_bills, count, rng, Decimal(1)) if count else []
    times = sorted((moment() for _ in range(count)), reverse=True)
    bills: list[dict[str, Any]] = []
    for n, (amount, pts, when) in enumerate(zip(amounts, points, times, strict=True), start=1):
        bills.append(_bill(customer_id, n, "REGULAR", amount, pts, when, rng))
    ledger: list[dict[str, Any]] = []
    for bill in bills:
        _event(ledger, "TransactionAdd", bill["_points"], bill["_when"], bill=bill)
    if count:
        # A bill where the customer declined loyalty: no points, and the answer says why.
        ni = _bill(customer_id, count + 1, "NOT_INTERESTED", Decimal("799.00"), None, moment(), rng)
        bills.append(ni)
        if returned > 0:
            source = rng.choice(bills[:count])
            back = _bill(
                customer_id,
                count + 2,
                "RETURN",
                source["_amount"] / 4,
                None,
                source["_when"] + timedelta(days=3),
                rng,
            )
            back["returnType"] = "AMOUNT"
            back["billNumber"] = source["billNumber"]
            bills.append(back)
            _event(ledger, "ReturnBill", -returned, back["_when"], bill=back)
    for part in _spread(redeemed, 2 if redeemed > 1 else (1 if redeemed else 0), rng, Decimal(1)):
        _event(ledger, "PointsRedemption", -part, moment())
    if expired:
        _event(ledger, "PointsExpiry", -expired, moment())
    if adjusted:
        _event(ledger, "ManualPointsAdjustment", adjusted, moment(), reason="Service recovery")
    goodwill = _goodwill(customer_id, goodwill_points, rng, moment, ledger)
    transfers = _transfers(customer_id, moment, ledger, today) if lifetime > 200 else []
    ledger.sort(key=lambda e: e["_when"], reverse=True)
    kind = customer_id % 7
    if kind == LEDGER_GAP:
        # One debit the balance knows about is missing from the ledger.
        debits = [e for e in ledger if e["eventName"] in ("PointsRedemption", "PointsExpiry")]
        if debits:
            ledger.remove(debits[0])
    elif kind == LEDGER_SHORT:
        ledger = [e for e in ledger if e["_when"] >= now - timedelta(days=SHORT_WINDOW_DAYS)]
    for number, entry in enumerate(ledger):
        entry["eventLogId"] = customer_id * BILL_ID_SPAN + 500 + number
    bills.sort(key=lambda b: b["_when"], reverse=True)
    coupons = _coupons(customer_id, rng, now, bills)
    return Activity(bills, ledger, coupons, goodwill, transfers)


def _bill(
    customer_id: int,
    n: int,
    kind: str,
    amount: Decimal,
    points: Decimal | None,
    when: datetime,
    rng: random.Random,
) -> dict[str, Any]:
    code, name = rng.choice(STORES)
    amount = amount.quantize(CENT)
    bill: dict[str, Any] = {
        "id": customer_id * BILL_ID_SPAN + n,
        "customerId": customer_id,
        "loyaltyLogId": customer_id * BILL_ID_SPAN + n,
        "billingTime": iso(when),
        "billNumber": f"B{customer_id % 100000:05d}-{n:03d}",
        "type": kind,
        "notes": "",
        "amount": _num(amount),
        "grossAmount": 0.0 if kind == "RETURN" else _num(amount),
        "discount": 0.0,
        "outlierStatus": "NORMAL",
        "billingStore": {
            "id": 5000 + STORES.index((code, name)),
            "code": code,
            "name": name,
            "type": "STORE",
            "referenceId": -1,
        },
        "_when": when,
        "_amount": amount,
        "_points": points or Decimal(0),
    }
    if kind == "REGULAR":
        bill["billPoints"] = {
            "pointsBreakup": [
                {
                    "programName": PROGRAM,
                    "programId": 973,
                    "regularPoints": [
                        {"points": _num(points or Decimal(0)), "pointsAwardedType": "POINT_AWARDED"}
                    ],
                    "promisePoints": [],
                    "promoPoints": [],
                }
            ],
            "aggregatedBillPoints": [
                {
                    "programName": PROGRAM,
                    "programId": 973,
                    "regularPoints": {"points": _num(points or Decimal(0))},
                    "promisePoints": {"points": 0},
                    "promoPoints": {"points": 0},
                }
            ],
        }
    else:
        # Capillary sends no points block for bills that earn nothing.
        bill["billPoints"] = {"pointsBreakup": [], "aggregatedBillPoints": []}
    return bill


def _event(
    ledger: list[dict[str, Any]],
    name: str,
    points: Decimal,
    when: datetime,
    *,
    bill: dict[str, Any] | None = None,
    reason: str = "",
) -> None:
    entry_type = "CREDIT" if points >= 0 else "DEBIT"
    text = f"{abs(points):.3f}"
    ledger.append(
        {
            "eventLogId": 0,
            "eventName": name,
            "customerId": bill["customerId"] if bill else None,
            "ledgerCreatedDate": when.strftime("%Y-%m-%d %H:%M:%S") + ".0",
            "customerDetails": None,
            "entryDetails": [
                {
                    "ledgerEntryType": entry_type,
                    "points": text,
                    "pointsCategory": "Main",
                    "programName": PROGRAM,
                    "programId": 973,
                }
            ],
            "netPointsOnEvent": f"{points:.3f}",
            "transactionDetails": {
                "transactionId": bill["id"],
                "transactionNumber": bill["billNumber"],
                "date": when.strftime("%Y-%m-%d %H:%M:%S") + ".0",
                "amount": bill["amount"],
                "grossBillAmount": bill["grossAmount"],
                "source": "INSTORE",
            }
            if bill
            else {},
            "store": bill["billingStore"]["name"] if bill else "",
            "storeCode": bill["billingStore"]["code"] if bill else "",
            "tillCode": "",
            "eventDetails": {"reason": reason} if reason else {},
            "_when": when,
        }
    )


def _goodwill(customer_id, points, rng, moment, ledger) -> list[dict[str, Any]]:
    """Return requests in every status; the approved one's points are in the ledger."""
    admin = {"id": 75160042, "code": "desk.agent", "name": "desk.agent", "type": "ADMIN_USER"}
    program = {
        "programId": 973,
        "programName": PROGRAM,
        "pointsToCurrencyRatio": 1.0,
        "default": True,
    }
    out = []
    for n, (status, reason) in enumerate(
        (
            ("APPROVED", "Missing points for a bill"),
            ("PENDING", "Delayed delivery"),
            ("REJECTED", "Duplicate claim"),
        ),
        start=1,
    ):
        if status == "APPROVED" and not points:
            continue
        when = moment()
        item = {
            "id": customer_id % 1000000 * 10 + n,
            "addedBy": admin,
            "updatedBy": admin,
            "addedOn": iso(when),
            "updatedOn": iso(when + timedelta(hours=2)),
            "programId": 973,
            "userId": customer_id,
            "requestId": customer_id % 100000000 + n,
            "goodwillType": "POINTS",
            "goodwillStatus": status,
            "comments": "asked on the phone",
            "reason": reason,
            "updatedComments": "",
            "program": program,
            "earningEntityType": "CUSTOMER",
            "oneStep": False,
        }
        if status == "APPROVED":
            item["approvedValue"] = str(int(points))
            _event(
                ledger,
                "AllocateGoodwillPoints",
                points,
                when + timedelta(hours=2),
                reason="POINTS_ISSUE",
            )
        out.append(item)
    return out


def _names(customer_id: int, today: date) -> dict[str, str]:
    """Return a customer's first and last name as the record has them ("" when it has none)."""
    customer = cached_customer(customer_id, today)
    profiles = (customer.base.get("profiles") or [{}]) if customer is not None else [{}]
    profile = profiles[0] if isinstance(profiles[0], dict) else {}
    return {
        key: value if isinstance(value, str) else ""
        for key, value in (
            ("firstName", profile.get("firstName")),
            ("lastName", profile.get("lastName")),
        )
    }


def _transfers(customer_id, moment, ledger, today) -> list[dict[str, Any]]:
    """Return one transfer received and one sent, of equal points (the balance is unchanged).

    As in Capillary's examples, the other customer's side carries their name; this
    customer's own side has it blank.
    """
    if customer_id % TRANSFERS_EVERY:
        return []
    out = []
    for n, kind in enumerate(("ADDITION", "DEDUCTION"), start=1):
        when = moment()
        other = customer_id + n
        sender, receiver = (other, customer_id) if kind == "ADDITION" else (customer_id, other)
        blank = {"firstName": "", "lastName": ""}
        named = _names(other, today)
        out.append(
            {
                "toEntityId": receiver,
                "toEntityType": "CUSTOMER",
                "fromEntityId": sender,
                "fromEntityType": "CUSTOMER",
                "pointsTransferDate": when.strftime("%Y-%m-%d %H:%M:%S"),
                "pointsTransferred": 100.0,
                "transferId": customer_id % 1000000 * 10 + n,
                "transferType": kind,
                "transferredFrom": {"userId": sender, **(named if sender == other else blank)},
                "transferredTo": {"userId": receiver, **(named if receiver == other else blank)},
                "notes": "family pooling",
                "programName": PROGRAM,
            }
        )
        points = Decimal(100) if kind == "ADDITION" else Decimal(-100)
        _event(ledger, "PointsTransfer", points, when)
    return out


def _coupons(customer_id, rng, now, bills) -> list[dict[str, Any]]:
    """Return coupons in every status: active, redeemed on a bill, expired, used up."""
    store = {"code": "doc123", "name": "DocStore"}
    regular = [b for b in bills if b["type"] == "REGULAR"]
    out = []
    for n, status in enumerate(("active", "redeemed", "expired", "active"), start=1):
        issued = now - timedelta(days=30 * n + rng.randrange(20))
        till = issued + timedelta(days=365) if status != "expired" else now - timedelta(days=3)
        code = "".join(rng.choice("0123456789") for _ in range(12))
        if n == 4:
            code = "sv" + code[:8]  # some series issue lower-case codes
        coupon = {
            "code": code,
            "seriesId": 840060 + n,
            "description": f"Voucher {n}",
            "validTill": iso(datetime(till.year, till.month, till.day, tzinfo=UTC)),
            "validTillDateTime": iso(
                datetime(till.year, till.month, till.day, 23, 59, 59, tzinfo=UTC)
            ),
            "discountType": "ABS",
            "discountValue": float(100 * n),
            "discountUpto": 0.0,
            "redemptionCount": 0,
            "redemptionsLeft": 1,
            "id": customer_id % 10000000 * 10 + n,
            "createdDate": iso(issued),
            "transactionNumber": "0",
            "issuedAt": store,
            "redemptions": [],
            "reversedRedemptions": [],
        }
        if status == "redeemed" and regular:
            bill = regular[0]
            coupon.update(redemptionCount=1, redemptionsLeft=0)
            coupon["redemptions"] = [
                {
                    "id": coupon["id"] + 5,
                    "date": bill["billingTime"],
                    "transactionNumber": bill["billNumber"],
                    "redeemedAt": {
                        "code": bill["billingStore"]["code"],
                        "name": bill["billingStore"]["name"],
                    },
                }
            ]
        out.append(coupon)
    return out


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if not k.startswith("_")}


def _whole(params: dict[str, str], name: str, default: int, high: int) -> int | None:
    text = params.get(name, "").strip()
    if not text:
        return default
    return int(text) if text.isdigit() and int(text) <= high else None


def activity_response(
    panel: str, path_id: str, query: str, today: date
) -> tuple[int, dict[str, Any]]:
    """Answer one activity GET: return (HTTP status, JSON body)."""
    params = _params(query)
    if panel == "bill_number":
        return _bills_numbered(unquote(path_id), today)
    customer_id = customer_of(panel, path_id, query)
    if customer_id is None:
        return _error(400, 8013, "Invalid identifier")
    found = build_activity(customer_id, today)
    if panel == "bill":
        bill = next((b for b in found.bills if b["id"] == int(path_id)), None) if found else None
        if bill is None:
            return _error(404, 667, "Transaction id not found for this customer")
        return 200, _bill_detail(bill)
    if found is None:
        return _error(404, 8015, "Customer not found for the given identifiers")
    if panel == "transactions":
        limit, offset = _whole(params, "limit", 20, 1000), _whole(params, "offset", 0, 2**31)
        if limit is None or offset is None or limit == 0:
            return _error(400, 400, "Invalid limit or offset")
        bills = found.bills
        start, end = params.get("startDate", "")[:10], params.get("endDate", "")[:10]
        if start:
            bills = [b for b in bills if b["billingTime"][:10] >= start]
        if end:
            bills = [b for b in bills if b["billingTime"][:10] <= end]
        page = [_public(b) for b in bills[offset : offset + limit]]
        paging = {
            "limit": limit,
            "offset": offset,
            "sortBy": "BILLING_TIME",
            "sortOrder": "DESC",
            "total": len(bills),
        }
        return 200, {"pagination": paging, "data": page, "warnings": [], "errors": []}
    if panel == "coupons":
        body = {
            "pagination": {"limit": "100", "offset": "0", "total": len(found.coupons)},
            "customers": [{"id": customer_id, "coupons": found.coupons}],
        }
        return 200, {"entity": body, "warnings": [], "errors": [], "success": True}
    if panel == "transfers":
        if not found.transfers:
            return _error(200, 814, "No points transfers found")
        return 200, {"data": found.transfers, "warnings": [], "errors": []}
    if panel == "goodwill":
        paging = {"limit": 10, "offset": 0, "total": len(found.goodwill)}
        return 200, {"pagination": paging, "data": found.goodwill, "warnings": [], "errors": []}
    limit, page_number = _whole(params, "limit", 10, 100), _whole(params, "offset", 0, 10**6)
    if limit is None or page_number is None or limit == 0:
        return _error(400, 11029, "Invalid limit")
    entries = found.ledger
    pages = max(1, -(-len(entries) // limit))
    if entries and page_number >= pages:
        return _error(400, 11003, "No ledger entries found")
    chunk = [_public(e) for e in entries[page_number * limit : (page_number + 1) * limit]]
    return 200, {
        "customerDetails": {"userId": customer_id, "entityType": "CUSTOMER"},
        "ledgerDetails": {
            "pageNumber": page_number,
            "pageSize": limit,
            "totalEntries": len(entries),
            "pageCount": pages,
        },
        "ledgerEntries": chunk,
        "warnings": [],
    }


def _bills_numbered(number: str, today: date) -> tuple[int, dict[str, Any]]:
    """Answer getByBillNumber: every customer's bill with this number (numbers repeat).

    Bill numbers carry the last five digits of their customer's ID, so B00000-001 is bill
    1 of 100000000 and of any seed customer ending in 00000.
    """
    match = _NUMBER.match(number)
    found = []
    if match:
        tail = int(match.group(1))
        for customer_id in (100_000_000 + tail, *SEED_IDS):
            if customer_id % 100000 != tail:
                continue
            activity = build_activity(customer_id, today)
            for bill in activity.bills if activity else ():
                if bill["billNumber"] == number:
                    found.append(_bill_detail(bill))
    if not found:
        return _error(200, 688, "Bill number not found")
    paging = {"limit": 100, "offset": 0, "total": len(found)}
    return 200, {"pagination": paging, "data": found, "warnings": [], "errors": []}


def _bill_detail(bill: dict[str, Any]) -> dict[str, Any]:
    rng = random.Random(bill["id"])
    amount = bill["_amount"]
    count = 1 + rng.randrange(3)
    prices = _spread(amount, count, rng, CENT) if amount > 0 else [Decimal(0)]
    lines = [
        {
            "id": bill["id"] * 10 + n,
            "details": {
                "itemCode": f"sku_{rng.randrange(10000, 99999)}",
                "description": rng.choice(ITEMS),
                "qty": 1.0,
                "rate": _num(price),
                "amount": _num(price),
                "discount": 0.0,
                "value": _num(price),
                "serial": n,
            },
            "outlierStatus": "NORMAL",
            "valid": True,
            "returnDetails": {},
            "returnLineItemsDtos": [],
            "niReturn": False,
        }
        for n, price in enumerate(prices, start=1)
    ]
    return {
        "id": bill["id"],
        "customerId": bill["customerId"],
        "type": bill["type"],
        "outlierStatus": "NORMAL",
        "source": "INSTORE",
        "ignorePoints": bill["type"] == "NOT_INTERESTED",
        "billDetails": {
            "amount": bill["amount"],
            "grossAmount": bill["grossAmount"],
            "discount": 0.0,
            "billNumber": bill["billNumber"],
            "billingTime": bill["billingTime"],
            "note": "",
            "billingStore": bill["billingStore"],
            "returnDetails": {"canceled": False},
        },
        "paymentModes": [{"amount": bill["amount"], "mode": "Card", "notes": ""}],
        "lineItems": lines,
        "warnings": [],
    }
