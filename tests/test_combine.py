"""One upstream call per view: merging the parts' queries, and cutting the answer back."""

from __future__ import annotations

import threading
from http import HTTPStatus

import pytest

from lookup import roles, services, tabs
from lookup.capillary import CustomerQuery
from lookup.sandbox.faults import FAULT_IDS
from lookup.services import combine, singleflight, store, upstream
from tests.conftest import CUSTOMER, TAB_SLUGS, calls

BASE = CustomerQuery(customer_id=CUSTOMER)
OPTIONS = tabs.PageOptions()
INSTORE = {"source": "INSTORE"}
HX = {"HTTP_HX_REQUEST": "true"}


def parts(*names: str, options: tabs.PageOptions = OPTIONS) -> dict[str, CustomerQuery]:
    return tabs.part_queries(BASE, names, options)


# -- plan: which parts share a call ---------------------------------------------------------------


def test_header_is_one_call():
    header = parts(*tabs.HEADER_PARTS)
    [(call, members)] = combine.plan(header.values())
    assert set(members) == set(header.values())
    sent = dict(call.params())
    assert sent["embed"] == "mlp,points"
    assert sent["includedFraudDetails"] == sent["ndncStatus"] == sent["optinStatus"] == "true"
    assert sent["gapToUpgrade"] == sent["gapToRenew"] == "0"


def test_every_tab_is_one_call():
    for tab in tabs.TABS:
        if tab.parts:
            assert len(combine.plan(parts(*tab.parts).values())) == 1, tab.slug


def test_two_projections_cannot_share_a_call():
    projected = parts("mlp", "gaps", "points", options=tabs.PageOptions(gap_days=30))
    groups = combine.plan(projected.values())
    assert len(groups) == 2
    by_gap = {call.gap_to_upgrade: members for call, members in groups}
    assert projected["gaps"] in by_gap[30] and projected["mlp"] in by_gap[0]
    # A part that shows no programs may ride with either.
    assert projected["points"] in by_gap[0]


def test_today_gaps_are_the_programs_part():
    assert parts("mlp")["mlp"] == parts("gaps")["gaps"]


def test_only_current_profile_keeps_to_the_record():
    only = tabs.PageOptions(only_current_profile=True)
    record, points = parts("base", options=only)["base"], parts("points")["points"]
    [(call, _members)] = combine.plan([record, points])
    assert call.included_only_current_profile
    assert combine.serves(call, points)  # the points' blocks do not depend on profiles
    assert not combine.serves(call, parts("base")["base"])  # the full record's would


def test_other_customers_never_share():
    other = CustomerQuery(customer_id=CUSTOMER + 1)
    assert len(combine.plan([BASE, other])) == 2
    assert combine.merge(BASE, BASE.replace(source="WECHAT")) is None


# -- split: what each part keeps ------------------------------------------------------------------


ANSWER = {
    "id": CUSTOMER,
    "profiles": [{"firstName": "Bubalus"}],
    "loyaltyInfo": {"loyaltyType": "loyalty"},
    "fraudDetails": {"status": "NOT_FRAUD"},
    "cardDetails": [],
    "pointsSummary": {"loyaltyPoints": 10},
    "loyaltyProgramDetails": [{"programId": 1}],
    "slabHistory": [],
    "warnings": [
        {"status": False, "code": 8062, "message": "Points details fetch failed"},
        {"status": False, "code": 8069, "message": "Merged customer found"},
        {"status": False, "code": 1656, "message": "Something we do not know"},
    ],
}


def _split(*names: str) -> dict[str, dict]:
    named = parts(*names)
    [(call, members)] = combine.plan(named.values())
    pieces = combine.split(ANSWER, call, members)
    return {name: pieces[query] for name, query in named.items()}


def test_each_part_keeps_its_own_blocks():
    got = _split("base", "points", "mlp", "slabHistory")
    assert set(got["base"]) == {
        "id",
        "profiles",
        "loyaltyInfo",
        "fraudDetails",
        "cardDetails",
        "warnings",
    }
    assert set(got["points"]) == {"id", "pointsSummary", "warnings"}
    assert set(got["mlp"]) == {"id", "loyaltyProgramDetails", "warnings"}
    assert set(got["slabHistory"]) == {"id", "slabHistory", "warnings"}


def test_a_warning_goes_to_the_parts_it_is_about():
    got = _split("base", "points", "mlp", "slabHistory")
    codes = {name: [w["code"] for w in piece["warnings"]] for name, piece in got.items()}
    assert codes == {
        "base": [8069, 1656],  # about the record, or unknown
        "points": [8062],
        "mlp": [8062],
        "slabHistory": [],
    }


def test_a_warning_about_a_part_not_asked_for_goes_to_the_record():
    got = _split("base", "slabHistory")
    assert [w["code"] for w in got["base"]["warnings"]] == [8062, 8069, 1656]


# -- through the service layer --------------------------------------------------------------------


def test_cold_parts_cost_one_call_and_are_cached_apart(org, sandbox):
    header = parts(*tabs.HEADER_PARTS)
    results = services.fetch(org, header)
    assert calls(sandbox) == 1
    assert sandbox.stats()["embeds"] == [["mlp", "points"]]
    assert results["base"].customer.profiles and results["points"].customer.points_summary
    assert not results["points"].customer.profiles  # the record is the record part's
    assert services.in_cache(org, header.values()) == set(header.values())
    # Each entry keeps the call it came from, and its own freshness.
    entry = store.read(org.pk, header["points"])[0]
    assert ("embed", "mlp,points") in entry.params
    assert results["points"].params == header["points"].params()


def test_parts_already_fresh_are_not_asked_for_again(org, sandbox):
    services.fetch(org, parts(*tabs.HEADER_PARTS))
    loyalty = parts(*tabs.TAB_BY_SLUG["loyalty"].parts)
    services.fetch(org, loyalty)
    assert calls(sandbox) == 2
    [_header, second] = sandbox.stats()["embeds"]
    assert "points" not in second and "mlp" not in second
    assert set(second) == {
        "expirySchedules",
        "expiredPoints",
        "returnedPoints",
        "promotionalPoints",
    }


def test_each_part_keeps_its_own_freshness(org, sandbox, clock, settings):
    settings.CACHE_FRESH_OVERRIDES = {"points": 10}
    header = parts(*tabs.HEADER_PARTS)
    services.fetch(org, header)
    clock.advance(11)
    again = services.fetch(org, header)
    assert again["points"].revalidating and not again["base"].revalidating
    assert services.wait_for_refreshes()
    assert calls(sandbox) == 2
    assert sandbox.stats()["embeds"][-1] == ["points"]  # only the stale part, refreshed


def test_a_failed_call_fails_only_its_parts(org, sandbox):
    services.fetch(org, parts("base"))
    sandbox.set_fault(CUSTOMER, "http_500")
    results = services.fetch(org, parts("base", "subscriptions"))
    assert not isinstance(results["base"], Exception)  # still fresh in the cache
    assert isinstance(results["subscriptions"], Exception)


def test_a_view_needing_part_of_a_call_in_flight_waits_for_it(org, sandbox, monkeypatch):
    started, release = threading.Event(), threading.Event()
    real = upstream.call

    def held(*args, **kwargs):
        started.set()
        assert release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(upstream, "call", held)
    header = parts(*tabs.HEADER_PARTS)
    out: dict = {}
    first = threading.Thread(target=lambda: out.update(page=services.fetch(org, header)))
    first.start()
    assert started.wait(10)
    started.clear()
    joined = threading.Event()
    waiting = singleflight.Flight.result

    def join(flight, key, timeout):
        joined.set()
        return waiting(flight, key, timeout)

    monkeypatch.setattr(singleflight.Flight, "result", join)
    second = threading.Thread(
        target=lambda: out.update(points=services.fetch(org, parts("points")))
    )
    second.start()
    assert joined.wait(10)  # the second view waits on the first's flight...
    assert len(singleflight.flights) == 3  # ...which holds the header's parts, all of them
    release.set()
    first.join(10)
    second.join(10)
    assert not started.is_set()  # the second view made no call of its own
    assert calls(sandbox) == 1
    assert out["points"]["points"].customer.points_summary is not None


def test_a_part_locked_by_another_process_is_waited_for(org, sandbox):
    header = parts(*tabs.HEADER_PARTS)
    key = store.entry_key(org.pk, header["points"])
    token = singleflight.acquire(key, 10)
    generation = store.read(org.pk, header["points"])[1]

    def other_process() -> None:
        result = services.client_for(org).get_customer(header["points"])
        answer = store.Answer(header["points"], result.raw_text, result.customer)
        store.write_many(
            org.pk, [answer], request_id=result.request_id, path=result.path,
            params=result.params, fetched_at=store.now(), generation=generation,
        )  # fmt: skip
        singleflight.release({key: token})

    holder = threading.Timer(0.2, other_process)
    holder.start()
    results = services.fetch(org, header)
    holder.join()
    assert results["points"].from_cache  # taken from the other process's answer
    assert not results["base"].from_cache
    # Ours without the points, and theirs: whichever came first.
    assert sorted(sandbox.stats()["embeds"]) == [["mlp"], ["points"]]


# -- through the pages ----------------------------------------------------------------------------


@pytest.fixture
def ops_client(as_role):
    return as_role(roles.LOYALTY_OPS)


def test_a_full_walk_costs_at_most_five_calls(ops_client, sandbox):
    assert ops_client.get(f"/customers/{CUSTOMER}/", INSTORE).status_code == HTTPStatus.OK
    assert calls(sandbox) == 1
    for slug in TAB_SLUGS:
        response = ops_client.get(f"/customers/{CUSTOMER}/tabs/{slug}/", INSTORE, **HX)
        assert response.status_code == HTTPStatus.OK, slug
    assert ops_client.get(f"/customers/{CUSTOMER}/", INSTORE).status_code == HTTPStatus.OK
    walk = calls(sandbox)
    assert walk <= 5, f"a full walk cost {walk} calls"


def test_a_points_warning_shows_where_it_applies_once(ops_client, sandbox):
    customer = FAULT_IDS["points_warning"]
    page = ops_client.get(f"/customers/{customer}/", INSTORE)
    assert page.status_code == HTTPStatus.OK
    header = page.content.decode().split('role="tablist"')[0]
    assert header.count("Capillary warning 8062") == 1  # on the points and programs parts
    profile = ops_client.get(f"/customers/{customer}/tabs/profile/", INSTORE, **HX)
    assert profile.status_code == HTTPStatus.OK
    assert "warning 8062" not in profile.content.decode()  # the record itself is good
    loyalty = ops_client.get(f"/customers/{customer}/tabs/loyalty/", INSTORE, **HX)
    assert loyalty.status_code == HTTPStatus.OK
    assert loyalty.content.decode().count("Capillary warning 8062") == 1  # in the points panel


@pytest.mark.parametrize("fault", ["http_500", "cut_short"])
def test_one_failing_customer_never_pauses_the_org(agent_client, sandbox, fault):
    bad = FAULT_IDS[fault]
    for _ in range(15):
        response = agent_client.get(f"/customers/{bad}/", {**INSTORE, "refresh": "1"})
        assert response.status_code in (HTTPStatus.BAD_GATEWAY, HTTPStatus.TOO_MANY_REQUESTS)
    healthy = agent_client.get(f"/customers/{CUSTOMER}/", INSTORE)
    assert healthy.status_code == HTTPStatus.OK
    assert "We stopped calling Capillary" not in healthy.content.decode()
