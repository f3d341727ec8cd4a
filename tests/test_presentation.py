"""Unit tests of the record tabs' pure helpers, on hand-built records (no network)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from lookup import services, tabs
from lookup.capillary import CapillaryError, CustomerQuery
from lookup.capillary.records import (
    ApiWarning,
    Card,
    Customer,
    ExpirySchedule,
    GapToRenew,
    LoyaltyProgram,
    ReturnedPoints,
    SlabChange,
    UpgradeStrategy,
)
from lookup.models import Org
from lookup.tabs import CustomerLinks, PageOptions, TabContext
from lookup.tabs.cards import card_summary, card_view, expiry_words, sort_cards
from lookup.tabs.loyalty import (
    expiry_months,
    next_tier_text,
    points_panel,
    promotion_groups,
    returned_views,
    timeline,
)
from lookup.tabs.upgrade import (
    NO_DOWNGRADE,
    percent_of,
    program_gaps,
    progress,
    projection,
    projection_text,
    renewal_view,
    retention_criteria,
    upgrade_progress,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
D = Decimal


def test_doc_sentence():
    bar = progress("CURRENT_POINTS", D(25000), D(9786), D(15214), datetime(2025, 5, 6), "UTC")
    assert bar.sentence == "9,786 of 25,000 points — 15,214 to go, by 6 May 2025"
    assert bar.percent_value == "39.1"
    assert not bar.reached


def test_camel_and_snake_strategies_read_alike():
    values = {"currentValue": 9786, "gapToUpgrade": 15214, "valueValidUpto": "2025-05-06"}
    camel = UpgradeStrategy.from_raw(
        {"upgradeBasedOn": "CURRENT_POINTS", "upgradeThreshold": 25000.0,
         "customerUpgradeEntityValues": values}
    )  # fmt: skip
    snake = UpgradeStrategy.from_raw(
        {"upgrade_based_on": "CURRENT_POINTS", "upgrade_threshold": "25000",
         "customerUpgradeEntityValues": values}
    )  # fmt: skip
    expected = "9,786 of 25,000 points — 15,214 to go, by 6 May 2025"
    assert upgrade_progress(camel, "Asia/Kolkata").sentence == expected
    assert upgrade_progress(snake, "Asia/Kolkata").sentence == expected


def test_units_in_words():
    def sentence(code: str) -> str:
        return progress(code, D(10), D(4), None, None, "UTC").sentence

    assert sentence("CUMULATIVE_PURCHASES") == "4 of 10 in purchases — 6 to go"
    assert sentence("CUMULATIVE_POINTS") == "4 of 10 points — 6 to go"
    assert sentence("TRACKER_VALUE_BASED") == "4 of 10 tracker value — 6 to go"
    assert sentence("VISITS") == "4 of 10 visits — 6 to go"
    assert sentence("") == "4 of 10 — 6 to go"


def test_percentage_clamped():
    assert percent_of(D(150), D(100)) == 100
    assert percent_of(D(-5), D(100)) == 0
    assert percent_of(D(5), D(0)) == 100
    assert percent_of(None, D(100)) is None
    assert percent_of(D(5), None) is None
    over = progress("VISITS", D(5), D(8), None, None, "UTC")
    assert over.reached and over.percent == 100
    assert over.sentence == "Threshold reached — 8 of 5 visits"
    under = progress("VISITS", D(5), D(-2), None, None, "UTC")
    assert under.percent_value == "0.0"


def test_gap_zero_is_reached_and_current_derived_from_gap():
    met = progress("CURRENT_POINTS", D(2000), None, D(0), None, "UTC")
    assert met.reached and met.current == 2000 and met.sentence.startswith("Threshold reached")
    derived = progress("CURRENT_POINTS", D(2000), None, D(500), None, "UTC")
    assert derived.current == 1500 and derived.percent_value == "75.0"


def test_never_deadline_is_left_out():
    bar = progress("CURRENT_POINTS", D(2000), D(0), D(2000), datetime(2125, 11, 3), "UTC")
    assert bar.sentence == "0 of 2,000 points — 2,000 to go"


def test_nothing_known():
    bar = upgrade_progress(UpgradeStrategy.from_raw({}), "UTC")
    assert bar.percent is None and not bar.reached
    assert bar.sentence == "Capillary sent no threshold or current value."
    assert bar.name == "Strategy not named"


def test_renewal_by_tier_expiry():
    summary = GapToRenew.from_raw(
        {"tierExpiryDate": "2026-09-23", "renewConfirmed": False, "renewStrategies": [
            {"renewBasedOn": "PURCHASE", "renewThreshold": 50000.0,
             "customerRenewEntityValue": 42100.0, "customerGapToRenewValue": 7900.0}]}
    )  # fmt: skip
    view = renewal_view(summary, "UTC")
    assert view.tier_expiry == date(2026, 9, 23)
    [(bar, strategy)] = view.bars
    assert bar.sentence == "42,100 of 50,000 in purchases — 7,900 to go, by 23 Sep 2026"
    assert strategy.based_on == "PURCHASE"


def _card(number: str, status: str | None, expiry: str | None, **more) -> Card:
    raw = {"cardNumber": number, **more}
    if status is not None:
        raw["statusInfo"] = {"status": status, "label": status}
    if expiry is not None:
        raw["expiryDate"] = expiry
    return Card.from_raw(raw)


def test_cards_sorted_by_status_then_expiry():
    cards = [
        _card("lost", "LOST", "2026-12-01T00:00:00Z"),
        _card("active-none", "ACTIVE", None),
        _card("active-late", "ACTIVE", "2028-01-01T00:00:00Z"),
        _card("suspended", "SUSPENDED", "2027-01-01T00:00:00Z"),
        _card("active-soon", "ACTIVE", "2026-12-07T00:00:00Z"),
        _card("expired", "EXPIRED", None),
    ]
    views = sort_cards(card_view(c, NOW, "UTC") for c in cards)
    assert [v.card.card_number for v in views] == [
        "active-soon", "active-late", "active-none", "expired", "lost", "suspended"
    ]  # fmt: skip


def test_cards_that_stand_out():
    soon = card_view(_card("a", "ACTIVE", "2026-12-07T00:00:00Z"), NOW, "UTC")
    assert soon.days_left == 12 and soon.stands_out
    assert [b.text for b in soon.badges] == ["ACTIVE", "Expires in 12 days"]
    later = card_view(_card("b", "ACTIVE", "2026-12-26T00:00:00Z"), NOW, "UTC")
    assert later.days_left == 31 and not later.stands_out
    assert [(b.text, b.tone) for b in later.badges] == [("ACTIVE", "ok")]
    suspended = card_view(_card("c", "SUSPENDED", None), NOW, "UTC")
    assert suspended.stands_out and [b.text for b in suspended.badges] == ["SUSPENDED"]
    past = card_view(_card("d", "ACTIVE", "2026-11-22T00:00:00Z"), NOW, "UTC")
    assert past.stands_out and past.badges[-1].text == "Expired 3 days ago"
    never = card_view(_card("e", "ACTIVE", "2125-01-01T00:00:00Z"), NOW, "UTC")
    assert never.days_left is None and not never.stands_out
    unknown = card_view(_card("f", None, None), NOW, "UTC")
    assert unknown.stands_out and unknown.badges[0].text == "Status not returned"


def test_expiry_day_counted_in_viewer_zone():
    # 25 Nov 20:00 UTC is already 26 Nov in Kolkata, so a card expiring 26 Nov expires today.
    late = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)
    view = card_view(_card("a", "ACTIVE", "2026-11-26T06:00:00Z"), late, "Asia/Kolkata")
    assert view.days_left == 0 and view.badges[-1].text == "Expires today"
    assert expiry_words(1) == "Expires tomorrow"
    assert expiry_words(-1) == "Expired yesterday"


def test_card_words():
    view = card_view(
        _card("a", "ACTIVE", None, transactionNotAllowed=True, activeAndDigital=False), NOW, "UTC"
    )
    assert view.transactions == "Transactions not allowed"
    assert view.active_digital == "No"
    blank = card_view(_card("b", "ACTIVE", None), NOW, "UTC")
    assert blank.transactions == "not returned" and blank.active_digital == "not returned"


def test_card_summary():
    cards = [
        _card("1", "ACTIVE", None),
        _card("2", "ACTIVE", "2026-12-01T00:00:00Z"),
        _card("3", "ACTIVE", None),
        _card("4", "SUSPENDED", None),
        _card("5", "LOST", None),
    ]
    views = [card_view(c, NOW, "UTC") for c in cards]
    assert card_summary(views) == "5 cards: 3 active, 1 lost, 1 suspended, 1 expiring in 6 days"
    assert card_summary(views[:1]) == "1 card: 1 active"
    assert card_summary([]) == "No cards"


def test_expiry_months_summed():
    schedules = [
        ExpirySchedule.from_raw(
            {"points": 100, "expiryDateISO": "2026-12-16T00:00:00Z", "programId": 973}
        ),
        ExpirySchedule.from_raw({"points": "50.5", "expiryDate": "2026-12-02", "programId": 1}),
        ExpirySchedule.from_raw({"points": 7, "expiryDateISO": "2027-01-03T00:00:00Z"}),
        # 31 Dec 20:00 UTC is 1 Jan in Kolkata: the viewer's month counts.
        ExpirySchedule.from_raw({"points": 3, "expiryDateISO": "2026-12-31T20:00:00Z"}),
        ExpirySchedule.from_raw({"points": None}),
    ]
    months = expiry_months(schedules, "Asia/Kolkata", {973: "DocDemoDefaultProgram"})
    assert [(m.label, m.total) for m in months] == [
        ("December 2026", D("150.5")),
        ("January 2027", D(10)),
        ("No expiry date", None),
    ]
    assert [e.program for e in months[0].entries] == ["Program 1", "DocDemoDefaultProgram"]
    assert months[0].entries[0].when == date(2026, 12, 2)  # date-only: shown without a time


def test_timeline_lanes_newest_first():
    changes = [
        SlabChange.from_raw({"from": "Topaz", "to": "Coral", "type": "UPGRADE",
                             "changedOn": "2025-03-26T08:26:55Z", "programId": 983}),
        SlabChange.from_raw({"from": "Coral", "to": "Garnet", "type": "UPGRADE",
                             "changedOn": "2026-01-13T14:41:26Z", "programId": 983}),
        # v1.1 spelling, a naive date and an unknown program.
        SlabChange.from_raw({"from": "Gold", "to": "Silver", "type": "DOWNGRADE",
                             "changed_on": "2026-02-01", "program_id": 999}),
        SlabChange.from_raw({"from": "Silver", "to": "Silver", "type": "RENEW", "programId": 999}),
        SlabChange.from_raw({"from": "A", "to": "B", "type": "odd"}),
    ]  # fmt: skip
    lanes = timeline(changes, {983: "Group Loyalty Program"})
    assert [lane.title for lane in lanes] == [
        "Program 999",
        "Group Loyalty Program",
        "Program not stated",
    ]
    assert [(e.change.from_tier, e.change.to_tier) for e in lanes[1].entries] == [
        ("Coral", "Garnet"), ("Topaz", "Coral")
    ]  # fmt: skip
    assert [(e.word, e.icon) for e in lanes[0].entries] == [("DOWNGRADE", "↓"), ("RENEWAL", "↻")]
    assert lanes[1].named and not lanes[0].named
    assert lanes[2].entries[0].word == "ODD"


def test_points_panel_sources():
    summary = LoyaltyProgram.from_raw({"loyaltyPoints": 10, "lifetimePoints": 20, "redeemed": 5})
    panel = points_panel(summary, ())
    assert panel.source == "summary" and panel.rows[0] == ("Current (redeemable)", 10)
    programs = (
        LoyaltyProgram.from_raw({"loyaltyPoints": 10, "expired": 1}),
        LoyaltyProgram.from_raw({"loyaltyPoints": "2.5"}),
    )
    warning = ApiWarning.from_raw({"code": 8062, "message": "Points details fetch failed"})
    summed = points_panel(None, programs, [warning])
    assert summed.source == "programs" and summed.program_count == 2
    assert dict(summed.rows)["Current (redeemable)"] == D("12.5")
    assert dict(summed.rows)["Redeemed"] is None
    assert summed.warning.code == 8062
    assert points_panel(None, ()).source == ""


def test_next_tier_words():
    assert next_tier_text(LoyaltyProgram.from_raw({"nextSlabSerialNumber": -1})) == "top tier"
    program = LoyaltyProgram.from_raw({"nextSlab": "Ruby", "nextSlabSerialNumber": 4})
    assert next_tier_text(program) == "Ruby (tier 4)"
    assert next_tier_text(LoyaltyProgram.from_raw({})) == "not returned"


def test_promotions_and_returned_points():
    customer = Customer.from_raw(
        {"promotionalPoints": {"customerPromotionType": [{"points": 20}, {"points": 14}],
                               "lineitemPromotionType": [{"points": 1, "programId": 973}]},
         "returnedPoints": [{"points": 3, "billNumber": "BILL-1", "extra": {"a": 1}}]}
    )  # fmt: skip
    groups = promotion_groups(customer.promotional_points, {973: "Default"})
    assert [(g.label, g.total, len(g.entries)) for g in groups] == [
        ("Customer promotions", D(34), 2),
        ("Transaction promotions", None, 0),
        ("Line-item promotions", D(1), 1),
    ]
    [returned] = returned_views(customer.returned_points, {})
    assert returned.other == (("billNumber", "BILL-1"), ("extra", '{"a": 1}'))
    assert isinstance(returned.record, ReturnedPoints)


def test_top_level_gaps():
    strategy = {"upgradeBasedOn": "VISITS", "upgradeThreshold": 10,
                "customerUpgradeEntityValues": {"currentValue": 4}}  # fmt: skip
    one = Customer.from_raw(
        {"loyaltyProgramDetails": [{"programId": 973, "programTitle": "Default"}],
         "upgradeStrategies": [strategy], "gapToRenewSummary": [{"renewConfirmed": True}]}
    )  # fmt: skip
    [group] = program_gaps(one.all_programs, one.upgrade_strategies, one.gap_to_renew, "UTC")
    assert group.title == "Default" and group.upgrades[0].sentence == "4 of 10 visits — 6 to go"
    assert len(group.renewals) == 1
    two = Customer.from_raw(
        {"loyaltyProgramDetails": [{"programId": 973, "slabSNo": 1}, {"programId": 983}],
         "upgradeStrategies": [strategy]}
    )  # fmt: skip
    groups = program_gaps(two.all_programs, two.upgrade_strategies, two.gap_to_renew, "UTC")
    assert [g.title for g in groups] == ["Program 973", "Program 983", "All programs"]
    assert groups[0].base_tier and not groups[1].base_tier
    assert groups[2].upgrades[0].sentence == "4 of 10 visits — 6 to go"


def test_retention_note():
    customer = Customer.from_raw(
        {"membershipRetentionCriteria": {"minPurchases": 0.0, "isDownGradeStrategy": False}}
    )
    [criteria] = retention_criteria(customer.membership_retention_criteria, {})
    assert criteria.words == NO_DOWNGRADE


def test_projection():
    ctx = _ctx({}, days=30, org_param="sandbox")
    chosen = projection(ctx)
    assert chosen.text == "Projected 30 days ahead, to 25 Dec 2026"
    assert [(c.label, c.href, c.current) for c in chosen.choices] == [
        ("Today", "/customers/42/tabs/upgrade/?source=INSTORE&org=sandbox", False),
        ("Tomorrow", "/customers/42/tabs/upgrade/?source=INSTORE&org=sandbox&days=1", False),
        ("+30 days", "/customers/42/tabs/upgrade/?source=INSTORE&org=sandbox&days=30", True),
    ]
    assert chosen.url == "/customers/42/tabs/upgrade/"
    assert chosen.hidden == (("source", "INSTORE"), ("org", "sandbox"))
    assert projection(_ctx({}, days=99999)).days == 3650
    assert projection_text(0, NOW, "UTC") == "Today's values (no projection)"
    assert projection_text(1, NOW, "UTC") == "Projected 1 day ahead, to 26 Nov 2026"


def test_customer_links_agree():
    query = CustomerQuery(customer_id=42, source="INSTORE", account_id="acc")
    links = CustomerLinks(query, PageOptions(gap_days=3), "sandbox")
    named = "source=INSTORE&accountId=acc&org=sandbox"
    assert links.page() == f"/customers/42/?{named}&days=3"
    assert (
        links.page(tab="cards", refresh=True)
        == f"/customers/42/?{named}&days=3&tab=cards&refresh=1"
    )
    assert links.tab("upgrade", gap_days=0) == f"/customers/42/tabs/upgrade/?{named}"
    assert links.reveal() == f"/customers/42/reveal/?{named}"
    assert links.image("customer", 0) == f"/customers/42/images/customer/0/?{named}"


def _ctx(parts: dict, days: int = 1, org_param: str = "") -> TabContext:
    return TabContext(
        org=Org(name="Org", slug="org", time_zone="UTC"),
        query=CustomerQuery(customer_id=42, source="INSTORE"),
        options=PageOptions(gap_days=days),
        tz="UTC",
        parts=parts,
        now=NOW,
        org_param=org_param,
    )


def test_builders_with_nothing_fetched():
    ctx = _ctx({})
    loyalty = tabs.TAB_BY_SLUG["loyalty"].build(ctx)
    assert set(loyalty["state"].values()) == {"absent"}
    assert loyalty["lanes"] == () and loyalty["expiry_months"] == ()
    cards = tabs.TAB_BY_SLUG["cards"].build(ctx)
    assert cards["cards_state"] == "absent" and cards["card_summary"] == "No cards"
    upgrade = tabs.TAB_BY_SLUG["upgrade"].build(ctx)
    assert upgrade["state"] == {"gaps": "absent", "tier_criteria": "absent", "retention": "absent"}
    assert upgrade["projection"].choices[1].current


def test_builders_with_every_part_failed():
    names = ("base", "points", "mlp", "slabHistory", "expirySchedules", "expiredPoints",
             "returnedPoints", "promotionalPoints", "gaps", "criteria")  # fmt: skip
    ctx = _ctx({name: CapillaryError("down") for name in names})
    loyalty = tabs.TAB_BY_SLUG["loyalty"].build(ctx)
    assert set(loyalty["state"].values()) == {"error"}
    assert set(loyalty["errors"]) == set(names) - {"gaps", "criteria"}
    assert tabs.TAB_BY_SLUG["cards"].build(ctx)["cards_state"] == "error"
    assert set(tabs.TAB_BY_SLUG["upgrade"].build(ctx)["state"].values()) == {"error"}


def _data(raw: dict) -> services.CustomerData:
    customer = Customer.from_raw(raw)
    return services.CustomerData(
        raw_text="{}",
        request_id=None,
        path="/v2/customers/42",
        params=[],
        fetched_at=0.0,
        parsed=customer,
    )


def test_builders_surface_warnings():
    points_failed = {"status": False, "code": 8062, "message": "Points details fetch failed"}
    gaps_missing = {"status": False, "code": 8076, "message": "Gap details missing"}
    ctx = _ctx(
        {
            "points": _data({"warnings": [points_failed]}),
            "mlp": _data({"loyaltyProgramDetails": [{"programId": 1, "loyaltyPoints": 7}]}),
            "gaps": _data(
                {"loyaltyProgramDetails": [{"programId": 1}], "warnings": [gaps_missing]}
            ),
        }
    )
    panel = tabs.TAB_BY_SLUG["loyalty"].build(ctx)["points_panel"]
    assert panel.warning.code == 8062 and panel.source == "programs"
    assert dict(panel.rows)["Current (redeemable)"] == 7
    upgrade = tabs.TAB_BY_SLUG["upgrade"].build(ctx)
    assert [w.code for w in upgrade["gap_warnings"]] == [8076]
    assert upgrade["state"]["gaps"] == "shown"


def test_when_shows_the_viewers_zone_with_the_original_on_hover():
    import datetime as dt
    import zoneinfo

    from lookup.templatetags.lookup_tags import when

    ist = dt.datetime(2025, 1, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)))
    utc = ist.astimezone(dt.UTC)  # the same instant, written in another zone
    shown = when(ist, "Europe/London")
    assert "1 Jan 2025, 04:30 GMT" in shown and 'title="2025-01-01T10:00:00+05:30"' in shown
    again = when(utc, "Europe/London")  # equal to `ist`, but its own original on hover
    assert "1 Jan 2025, 04:30 GMT" in again and 'title="2025-01-01T04:30:00+00:00"' in again
    assert when(ist, zoneinfo.ZoneInfo("Asia/Kolkata")).count("10:00 IST") == 1
    assert "never expires" in when(dt.date(2100, 1, 1), None)
    assert ">3 Feb 2025<" in when(dt.date(2025, 2, 3), "UTC")
    assert when(None) == "—" and when("") == "—" and when("not a date") == "not a date"


def test_dates_say_what_they_are():
    import datetime as dt

    from lookup.templatetags.lookup_tags import day, when

    # Midnight UTC shown in the cluster's zone is a date-only value: its UTC day, no clock.
    stamp = dt.datetime(2027, 1, 5, 5, 30, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)))
    assert ">5 Jan 2027<" in day(stamp, "Asia/Kolkata") and "05:30<" not in day(stamp)
    assert "(2 days ago)" in day(dt.date.today() - dt.timedelta(days=2), "UTC")
    assert "ago" not in day(dt.date.today() + dt.timedelta(days=2), "UTC")
    assert "never expires" in day(dt.datetime(2125, 11, 19, tzinfo=UTC))
    assert "(zone not stated)" in when(dt.datetime(2025, 2, 3, 14, 2), "UTC")
    assert ">3 Feb 2025<" in when(dt.datetime(2025, 2, 3), "UTC")


def test_midnight_utc_is_a_day():
    import datetime as dt

    from lookup.templatetags.lookup_tags import when

    enrolled = dt.datetime(
        2024, 8, 27, 5, 30, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))
    )
    assert ">27 Aug 2024<" in when(enrolled, "Asia/Kolkata")
    assert "05:30" not in when(enrolled, "Asia/Kolkata").split(">", 1)[1]
