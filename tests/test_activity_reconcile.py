"""The balance explained in words, and the timeline that merges the panels."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from lookup.activity import reconcile, timeline
from lookup.capillary.records.activity import LedgerEntry, Transaction
from lookup.sandbox import activity as sandbox_activity

TYPICAL = 100_000_000
HX = {"HTTP_HX_REQUEST": "true"}


def entry(name: str, points: str, day: int) -> LedgerEntry:
    return LedgerEntry.from_raw(
        {
            "eventName": name,
            "netPointsOnEvent": points,
            "ledgerCreatedDate": f"2025-01-{day:02d} 10:00:00.0",
        }
    )


EVENTS = [
    entry("TransactionAdd", "12400", 1),
    entry("PointsRedemption", "-3000", 5),
    entry("PointsExpiry", "-400", 9),
]


def test_agrees_in_words():
    result = reconcile.reconcile(EVENTS, Decimal(9000))
    assert result.agrees
    assert (
        result.sentence() == "Earned 12,400, redeemed 3,000, expired 400: balance 9,000, matches."
    )


def test_disagrees_points_at_the_gap():
    result = reconcile.reconcile(EVENTS, Decimal(9500))
    assert not result.agrees and result.gap == 500
    assert "adds up to 9,000, but the balance is 9,500 (500 more than the ledger explains)" in (
        result.sentence()
    )


def test_short_window():
    result = reconcile.reconcile(
        EVENTS, Decimal(12000), first_bill=datetime(2023, 3, 1, tzinfo=UTC)
    )
    assert result.short_window
    assert "The ledger starts on 2025-01-01, after the customer's first bill" in result.sentence()


def test_running_balance_newest_first():
    rows = reconcile.running_balances(EVENTS)
    assert [balance for _e, balance in rows] == [Decimal(9000), Decimal(9400), Decimal(12400)]


def test_no_points_only_from_what_the_api_says():
    base = {"billNumber": "b1", "billPoints": {"aggregatedBillPoints": []}}
    assert "declined loyalty" in reconcile.no_points_reason(
        Transaction.from_raw({**base, "type": "NOT_INTERESTED"})
    )
    assert "return" in reconcile.no_points_reason(Transaction.from_raw({**base, "type": "RETURN"}))
    assert "OUTLIER" in reconcile.no_points_reason(
        Transaction.from_raw({**base, "type": "REGULAR", "outlierStatus": "OUTLIER"})
    )
    # A regular, normal bill with no points: the answer says nothing, so neither do we.
    assert reconcile.no_points_reason(Transaction.from_raw({**base, "type": "REGULAR"})) == ""


def test_timeline_select():
    events = timeline.build(ledger=EVENTS)
    assert [e.kind for e in events] == ["points"] * 3
    assert events[0].balance_after == Decimal(9000) and events[0].server_time
    assert timeline.select(events, ["bill"], None) == []
    assert len(timeline.select(events, [], date(2025, 1, 5))) == 2


def customer_with(kind: int) -> int:
    """Return a generated customer with points whose ledger is of this kind (id % 7)."""
    from lookup.sandbox.data import build_customer

    return next(
        i
        for i in range(TYPICAL, TYPICAL + 60)
        if i % 7 == kind and (build_customer(i).points_summary or {}).get("loyaltyPoints")
    )


def timeline_text(client, customer_id, **params) -> str:
    url = f"/customers/{customer_id}/activity/timeline/"
    return client.get(url, params, **HX).content.decode()


def test_sandbox_customer_matches(agent_client):
    customer_id = customer_with(0)
    assert "matches." in timeline_text(agent_client, customer_id)


def test_sandbox_customer_with_a_missing_event(agent_client):
    text = timeline_text(agent_client, customer_with(sandbox_activity.LEDGER_GAP))
    assert "than the ledger explains" in text and "An event is missing" in text


def test_sandbox_customer_with_a_short_ledger(agent_client):
    text = timeline_text(agent_client, customer_with(sandbox_activity.LEDGER_SHORT))
    assert "The ledger starts on" in text and "first bill: events before then are not in it" in text


def test_timeline_filter_by_kind(agent_client):
    text = timeline_text(agent_client, TYPICAL, kind="goodwill")
    assert "event-goodwill" in text and "event-bill" not in text and "event-points" not in text
    everything = timeline_text(agent_client, TYPICAL)
    assert "event-bill" in everything and "event-coupon" in everything


def test_timeline_shows_points_expiring(agent_client):
    assert "Points expiring" in timeline_text(agent_client, 566881933)
