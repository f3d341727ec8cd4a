"""Activity records read every documented sample, odd ones included."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from lookup.capillary.records.activity import (
    Bill,
    Ledger,
    TransactionPage,
    coupons_from_raw,
    goodwill_from_raw,
)

SAMPLES = Path(__file__).parent / "fixtures" / "activity"


def sample(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text())


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.glob("*transactions_v2*.json")))
def test_every_transaction_sample_reads(name):
    page = TransactionPage.from_raw(sample(name))
    assert page.transactions
    assert all(t.bill_number for t in page.transactions)


def test_transactions_with_returns():
    page = TransactionPage.from_raw(sample("get_customer_transactions_v2_2023.json"))
    assert page.total == 108
    back = next(t for t in page.transactions if t.type == "RETURN")
    assert back.is_return and back.return_type == "FULL" and back.amount == Decimal(2000)
    assert back.points_earned is None  # no BILL_POINTS asked: nothing said about points


def test_bill_points():
    page = TransactionPage.from_raw(
        sample("get_customer_transactions_v2_embed_bill_points_2024.json")
    )
    (bill,) = page.transactions
    assert bill.points_earned == Decimal(150)
    assert bill.billing_time == datetime.fromisoformat("2024-04-17T05:35:33+05:30")


@pytest.mark.parametrize(
    "name", ["get_transaction_v2_by_id_2022.json", "get_transaction_v2_by_bill_number_2026.json"]
)
def test_bill_detail(name):
    bill = Bill.from_raw(sample(name))
    assert bill.transaction.bill_number
    assert bill.transaction.customer_id
    assert bill.line_items


def test_bill_by_id_line_items():
    bill = Bill.from_raw(sample("get_transaction_v2_by_id_2022.json"))
    assert bill.transaction.store_name == "webstore1"
    assert bill.line_items[0].item_code == "sku_486741_2"
    assert bill.line_items[0].amount == Decimal("100.5")


def test_coupons_basic():
    coupons = coupons_from_raw(sample("get_customer_coupons_basic_v2_2025.json"))
    first = coupons[0]
    assert first.code == "0211706970002385"
    assert first.valid_till == datetime(2026, 6, 11, 23, 59, 59, tzinfo=UTC)
    assert first.redemptions[0].store_name == "DocStore"
    assert first.status(datetime(2026, 1, 1, tzinfo=UTC)) == "redeemed"


def test_coupons_lower_case_codes():
    coupons = coupons_from_raw(
        sample("get_customer_coupons_basic_v2_coupon_code_case_lower_2025.json")
    )
    assert any(c.code != c.code.upper() for c in coupons)


def test_coupons_detailed():
    coupons = coupons_from_raw(sample("get_customer_coupons_detailed_v2_2022.json"))
    assert coupons and coupons[0].code and coupons[0].series_name


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.glob("get_points_ledger_*.json")))
def test_every_ledger_sample_reads(name):
    raw = sample(name)
    ledger = Ledger.from_raw(raw)
    assert len(ledger.entries) == len(raw.get("ledgerEntries") or [])


def test_ledger_offset_less_dates_and_strings():
    ledger = Ledger.from_raw(sample("get_points_ledger_v2_goodwill_2025.json"))
    first = ledger.entries[0]
    assert first.created == datetime(2023, 6, 21, 13, 34, 16)  # naive: server-local time
    assert first.net_points == Decimal(350)
    assert first.kind == "goodwill"
    assert first.reason == "POINTS_ISSUE"


def test_goodwill_shifted_dates_shown_as_given():
    (request,) = goodwill_from_raw(sample("get_goodwill_requests_v2_2025.json"))
    assert request.status == "APPROVED"
    assert request.approved_value == Decimal(500)
    assert request.added_on - request.updated_on == (
        datetime(2025, 4, 22, 16, 1, 45, tzinfo=UTC) - datetime(2025, 4, 22, 10, 31, 45, tzinfo=UTC)
    )
    assert request.asked_by == "1739864911_aditi"


def test_goodwill_2022():
    requests = goodwill_from_raw(sample("get_goodwill_requests_v2_2022.json"))
    assert requests and {r.status for r in requests} <= {"APPROVED", "PENDING", "REJECTED"}


@pytest.mark.parametrize(
    "name", ["get_points_transfers_v2_2022.json", "get_points_transfers_v2_2025.json"]
)
def test_points_transfers(name):
    from lookup.capillary.records.activity import transfers_from_raw

    transfers = transfers_from_raw(sample(name))
    assert transfers and all(t.points > 0 and t.counterpart_id for t in transfers)
    assert all(t.when is not None and t.when.tzinfo is None for t in transfers)


def test_points_transfer_counterpart_name():
    from lookup.capillary.records.activity import transfers_from_raw

    sent = transfers_from_raw(sample("get_points_transfers_v2_2025.json"))[0]
    assert not sent.received and sent.counterpart_id == 565039506
    assert sent.counterpart_name == "Madhurima Basak"
