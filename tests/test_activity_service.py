"""One panel = one cached part: freshness, the PII purge, stale copies, concurrency."""

from __future__ import annotations

import threading

from lookup import services as service
from lookup.capillary import CapillaryError
from lookup.capillary import activity as q
from lookup.services import store, upstream

TYPICAL = 100_000_000


def test_cached_then_refreshed_in_the_background(org, sandbox, clock, settings):
    settings.CACHE_FRESH_OVERRIDES = {"activity.ledger": 30}
    first = service.fetch_customer(org, q.ledger(TYPICAL))
    assert not first.from_cache
    assert service.fetch_customer(org, q.ledger(TYPICAL)).from_cache
    clock.advance(31)
    # Past its freshness: the copy is served at once and refreshed in the background.
    stale = service.fetch_customer(org, q.ledger(TYPICAL))
    assert stale.from_cache and stale.revalidating and not stale.stale
    assert service.wait_for_refreshes()
    assert sandbox.activity_calls("ledger", TYPICAL) == 2
    again = service.fetch_customer(org, q.ledger(TYPICAL))
    assert again.from_cache and not again.revalidating
    assert sandbox.activity_calls("ledger", TYPICAL) == 2


def test_equal_queries_share_an_entry(org):
    one = q.ActivityQuery("x", TYPICAL, "/p", (("a", "1"), ("b", "2")))
    two = q.ActivityQuery("x", TYPICAL, "/p", (("b", "2"), ("a", "1")))
    assert store.entry_key(org.pk, one) == store.entry_key(org.pk, two)


def test_pii_purge_drops_activity(org, sandbox):
    service.fetch_customer(org, q.goodwill(TYPICAL))
    store.purge_customer(org.pk, TYPICAL)
    assert not service.fetch_customer(org, q.goodwill(TYPICAL)).from_cache
    assert sandbox.activity_calls("goodwill", TYPICAL) == 2


def test_failure_past_usable_life_is_an_error(org, sandbox, clock):
    service.fetch_customer(org, q.coupons(TYPICAL))
    clock.advance(3600 * 24 * 30)  # long past the stale window
    sandbox.set_activity_fault(TYPICAL, "coupons", 503)
    result = service.fetch(org, {"c": q.coupons(TYPICAL)})["c"]
    assert isinstance(result, CapillaryError)  # far past its usable life: the error shows


def test_stale_copy_within_window(org, sandbox, clock, settings):
    settings.CACHE_FRESH_OVERRIDES = {"activity.coupons": 10}
    settings.CACHE_STALE_OVERRIDES = {"activity.coupons": 600}
    service.fetch_customer(org, q.coupons(TYPICAL))
    clock.advance(60)
    sandbox.set_activity_fault(TYPICAL, "coupons", 503)
    assert service.fetch_customer(org, q.coupons(TYPICAL)).revalidating
    assert service.wait_for_refreshes()
    # The background refresh failed: the copy is now served as stale, saying why.
    result = service.fetch_customer(org, q.coupons(TYPICAL))
    assert result.stale and "Capillary" in result.stale_reason


def test_concurrent_viewers_make_one_call(org, sandbox):
    sandbox.set_latency(100)
    try:
        results = []
        threads = [
            threading.Thread(
                target=lambda: results.append(service.fetch_customer(org, q.ledger(TYPICAL)))
            )
            for _ in range(5)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sandbox.set_latency(0)
    assert len(results) == 5
    assert sandbox.activity_calls("ledger", TYPICAL) == 1


def test_panels_fetched_side_by_side(org, sandbox, monkeypatch):
    # Each call waits until all three are in flight: made one after another, they never are.
    all_in_flight = threading.Barrier(3, timeout=30)
    real_call = upstream.call

    def call(*args, **kwargs):
        all_in_flight.wait()
        return real_call(*args, **kwargs)

    monkeypatch.setattr(upstream, "call", call)
    results = service.fetch(
        org,
        {
            "coupons": q.coupons(TYPICAL),
            "ledger": q.ledger(TYPICAL),
            "goodwill": q.goodwill(TYPICAL),
        },
    )
    assert not any(isinstance(r, CapillaryError) for r in results.values())
    assert [sandbox.activity_calls(p, TYPICAL) for p in ("coupons", "ledger", "goodwill")] == [
        1,
        1,
        1,
    ]
