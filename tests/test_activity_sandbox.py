"""The sandbox's activity endpoints, through the real client: consistent with each record."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lookup.capillary import BasicAuth, CapillaryClient, CustomerNotFound, UpstreamError
from lookup.capillary import activity as q
from lookup.capillary.records.activity import (
    Bill,
    Ledger,
    TransactionPage,
    coupons_from_raw,
    goodwill_from_raw,
)
from lookup.sandbox import activity as sandbox_activity
from lookup.sandbox.data import build_customer, today_utc

TYPICAL = 100_000_000


@pytest.fixture
def client(sandbox):
    client = CapillaryClient(sandbox.url, BasicAuth("demo.till", "demo-password"))
    yield client
    client.close()


def all_bills(client, customer_id):
    first = TransactionPage.from_raw(client.get_activity(q.transactions(customer_id)).raw)
    rows = list(first.transactions)
    while len(rows) < first.total:
        page = client.get_activity(q.transactions(customer_id, offset=len(rows))).raw
        rows += TransactionPage.from_raw(page).transactions
    return rows


def test_paging(client):
    first = TransactionPage.from_raw(client.get_activity(q.transactions(TYPICAL)).raw)
    second = TransactionPage.from_raw(client.get_activity(q.transactions(TYPICAL, offset=20)).raw)
    assert first.total > 20 and second.offset == 20
    assert not {t.id for t in first.transactions} & {t.id for t in second.transactions}
    times = [t.billing_time for t in first.transactions + second.transactions]
    assert times == sorted(times, reverse=True)


@pytest.mark.parametrize("customer_id", [TYPICAL, TYPICAL + 9, 566881933])
def test_bills_add_up_to_lifetime_purchases(client, customer_id):
    from lookup.sandbox.jsonout import raw_value

    record = build_customer(customer_id, today_utc())
    lifetime = raw_value(record.base["loyaltyInfo"]["lifetimePurchases"])
    regular = [t for t in all_bills(client, customer_id) if t.type == "REGULAR"]
    assert sum(t.amount for t in regular) == Decimal(str(lifetime)).quantize(Decimal("0.01"))


def ledger_sum(client, customer_id):
    raw = client.get_activity(q.ledger(customer_id)).raw
    return sum(e.net_points for e in Ledger.from_raw(raw).entries)


def test_ledger_adds_up_to_balance(client):
    customer_id = next(
        i
        for i in range(TYPICAL, TYPICAL + 20)
        if i % 7 not in (sandbox_activity.LEDGER_GAP, sandbox_activity.LEDGER_SHORT)
    )
    summary = build_customer(customer_id, today_utc()).points_summary
    assert ledger_sum(client, customer_id) == Decimal(str(summary["loyaltyPoints"]))


def test_some_ledgers_do_not_add_up(client):
    customer_id = next(
        i for i in range(TYPICAL, TYPICAL + 20) if i % 7 == sandbox_activity.LEDGER_GAP
    )
    summary = build_customer(customer_id, today_utc()).points_summary
    assert ledger_sum(client, customer_id) != Decimal(str(summary["loyaltyPoints"]))


def test_bill_detail_and_not_interested(client):
    rows = all_bills(client, TYPICAL)
    ni = next(t for t in rows if t.type == "NOT_INTERESTED")
    assert ni.points_earned == 0
    bill = Bill.from_raw(client.get_activity(q.bill(TYPICAL, ni.id, ni.type)).raw)
    assert bill.transaction.customer_id == TYPICAL
    assert bill.ignore_points
    assert sum(line.amount for line in bill.line_items) == ni.amount


def test_coupons_and_goodwill_in_every_status(client):
    from datetime import UTC, datetime

    coupons = coupons_from_raw(client.get_activity(q.coupons(TYPICAL)).raw)
    now = datetime.now(UTC)
    assert {c.status(now) for c in coupons} == {"active", "redeemed", "expired"}
    requests = goodwill_from_raw(client.get_activity(q.goodwill(TYPICAL)).raw)
    assert {r.status for r in requests} == {"APPROVED", "PENDING", "REJECTED"}


def test_unknown_customer(client):
    with pytest.raises(CustomerNotFound):
        client.get_activity(q.goodwill(42))


def test_fault_per_endpoint(client, sandbox):
    sandbox.set_activity_fault(TYPICAL, "coupons", 503)
    with pytest.raises(UpstreamError):
        client.get_activity(q.coupons(TYPICAL))
    assert client.get_activity(q.goodwill(TYPICAL)).raw["data"]
    assert sandbox.activity_calls("coupons", TYPICAL) == 1


def test_frequent_customer_ledger_spans_pages_and_adds_up(client):
    customer_id = 100_000_030  # divides by FREQUENT_EVERY; a ledger that adds up (30 % 7 == 4)
    assert customer_id % sandbox_activity.FREQUENT_EVERY == 0
    first = Ledger.from_raw(client.get_activity(q.ledger(customer_id)).raw)
    assert first.page_count == 2 and first.total_entries > q.LEDGER_PAGE_SIZE
    second = Ledger.from_raw(client.get_activity(q.ledger(customer_id, page=1)).raw)
    entries = first.entries + second.entries
    assert len(entries) == first.total_entries
    assert len({e.event_log_id for e in entries}) == len(entries)
    balance = build_customer(customer_id, today_utc()).points_summary["loyaltyPoints"]
    assert sum(e.net_points for e in entries) == Decimal(str(balance))
