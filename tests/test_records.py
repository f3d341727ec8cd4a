"""Tests for the forgiving customer records parsed from Capillary answers."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from lookup.capillary.records import (
    Card,
    Customer,
    CustomerImage,
    GapToRenew,
    LoyaltyProgram,
    UpgradeStrategy,
    parse_datetime,
    signed_url_expiry,
    to_decimal,
)

FIXTURES = Path(__file__).parent / "fixtures"
CUSTOMER_FILES = sorted(
    p.name for p in FIXTURES.glob("*.json") if not p.name.startswith(("error_", "oauth_"))
)


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def test_to_decimal() -> None:
    assert to_decimal(0.000) == Decimal("0")
    assert to_decimal("120.50") == Decimal("120.50")
    assert to_decimal(221350) == Decimal(221350)
    assert to_decimal(24000.0) == Decimal("24000.0")
    assert to_decimal(" 1,200.5 ") == Decimal("1200.5")
    for junk in (None, "", "abc", "NaN", "Infinity", float("nan"), True, [], {}, "9" * 100):
        assert to_decimal(junk) is None


def test_parse_datetime() -> None:
    assert parse_datetime("2025-02-28T06:15:10Z") == datetime(2025, 2, 28, 6, 15, 10, tzinfo=UTC)
    ist = timezone(timedelta(hours=5, minutes=30))
    assert parse_datetime("2116-12-07T23:59:59+05:30") == datetime(
        2116, 12, 7, 23, 59, 59, tzinfo=ist
    )
    assert parse_datetime("2125-11-03") == datetime(2125, 11, 3)
    assert parse_datetime("2021-11-10 01:04:05.0") == datetime(2021, 11, 10, 1, 4, 5)
    assert parse_datetime(date(2025, 1, 2)) == datetime(2025, 1, 2)
    for junk in (None, "", "yesterday", "2025-13-45", "2025-02-30T00:00:00Z", 1700000000, [], {}):
        assert parse_datetime(junk) is None


def test_seed_customer_566881933() -> None:
    customer = Customer.from_raw(load("seed_customer_566881933.json"))
    assert customer.id == 566881933
    assert customer.display_name == "Bubalus bubalis"
    (profile,) = customer.profiles
    assert profile.source == "INSTORE"
    assert profile.user_id == 566881933
    assert profile.account_id == ""
    assert profile.attribution.created_date == datetime(2025, 2, 28, 6, 15, 10, tzinfo=UTC)
    assert profile.attribution.created_date_text == "2025-02-28T06:15:10Z"
    assert profile.attribution.created_by.code == "neeraj.doc"
    assert profile.attribution.created_by.id == 75155282
    assert profile.attribution.modified_by.name == "george.docdemo"
    assert [i.type for i in profile.identifiers] == ["mobile", "email", "externalId"]
    assert len(profile.identifiers_all) == 3
    mobile = profile.comm_channels[0]
    assert (mobile.type, mobile.value, mobile.primary, mobile.verified) == (
        "mobile",
        "1234512345",
        True,
        False,
    )
    assert mobile.meta == {"residence": False, "office": False}
    assert profile.auto_update_time_text == "2026-01-14T08:48:38Z"
    info = customer.loyalty_info
    assert info.loyalty_type == "loyalty"
    assert info.lifetime_purchases == Decimal("221350.0")
    assert info.score == 0
    assert info.attribution.created_from_source == "instore"
    assert info.attribution.created_by.name == "naman"
    assert customer.associated_with == "naman_doc"
    assert customer.extended_fields["city"] == "Mumbai"
    assert len(customer.cards) == 5
    card = customer.cards[0]
    assert card.card_number == "mtest00000000067003"
    assert card.card_id == card.id == 914258
    assert card.created_date == datetime(2025, 9, 5, 12, 25, 27, tzinfo=UTC)
    assert card.expiry_date == datetime(2028, 6, 1, tzinfo=UTC)
    assert card.status.label == card.status.status == "ACTIVE"
    assert card.status.auto_update_time_text == "2025-09-18T12:47:06Z"
    assert card.mapped_entity_type == "TILL"
    assert card.mapped_entity_value == "rutuja_capillary"
    assert card.extended_fields == {"custom_card_name": "TOM", "vehicle_number": "KA01B2020"}
    assert card.custom_fields == {"vehicle_type": "Bike"}
    assert card.transaction_not_allowed is True
    assert card.active_and_digital is True
    assert customer.cards[4].card_external_id == "CardExternal2"
    assert customer.warnings == ()
    assert "slab_history" not in customer.present
    assert {"profiles", "loyalty_info", "cards", "segments", "warnings"} <= customer.present


def test_seed_customer_565261498() -> None:
    customer = Customer.from_raw(load("seed_customer_565261498.json"))
    assert customer.display_name == "Tom Sawyer"
    assert customer.optin_status == "NONE"
    assert customer.ndnc_status == "NONE"
    first, second = customer.slab_history
    assert (first.from_tier, first.to_tier, first.type) == ("Coral", "Garnet", "UPGRADE")
    assert first.changed_on == datetime(2026, 1, 13, 14, 41, 26, tzinfo=UTC)
    assert first.store_code == "doc123"
    assert first.store_name == "DocStore"
    assert first.program_id == 983
    assert first.to_tier_expiry_date is None
    assert second.to_tier_expiry_date_text == "2121-11-10T23:59:59Z"
    (criteria,) = customer.tier_upgrade_criteria
    assert criteria.purchase_type == "CURRENT_POINTS"
    assert criteria.purchase_value == Decimal("5999.0")
    (retention,) = customer.membership_retention_criteria
    assert retention.min_purchases == 0
    assert retention.min_visits == 0
    assert retention.is_downgrade_strategy is True
    assert customer.cards == ()
    assert {"slab_history", "tier_upgrade_criteria", "membership_retention_criteria"} <= (
        customer.present
    )


def test_wechat_profile() -> None:
    customer = Customer.from_raw(load("get_customer_v2_by_id_source_wechat_2022.json"))
    profile = customer.profiles[0]
    assert profile.account_id == "wechat-con1"
    card_identifier = profile.identifiers[1]
    assert (card_identifier.series_id, card_identifier.status_label) == (19, "ACTIVE")
    assert profile.attribution.created_by.id is None
    assert customer.loyalty_info.lifetime_purchases == 230
    assert customer.cards[0].extended_fields["card_balance"] == 1000.0


def test_mlp_and_fraud() -> None:
    customer = Customer.from_raw(
        load("lookup_customer_details_embed_mlp_with_fraudDetails_2021.json")
    )
    assert customer.display_name == ""
    assert len(customer.programs) == 5
    program = customer.programs[3]
    assert program.title == "AirAsia India"
    assert program.loyalty_points == 420
    assert program.slab_number == 1
    assert program.enrolled
    assert customer.programs[0].top_tier
    (group,) = customer.group_programs
    assert group.title == "Tata Digital SITDefaultProgram"
    assert len(group.programs) == 12
    assert customer.fraud_details.status == "NOT_FRAUD"
    assert customer.fraud_details.marked_by == ""


def test_fragments() -> None:
    points = Customer.from_raw(load("get_customer_v2_embed_points_fragment.json"))
    assert points.points_summary.current_slab == "Platinum"
    assert points.points_summary.next_slab_number == -1
    assert points.all_programs == (points.points_summary,)
    assert points.present == {"points_summary"}
    mlp = Customer.from_raw(load("get_customer_v2_embed_mlp_fragment.json"))
    assert [p.program_id for p in mlp.programs] == [1219, 1223]
    assert mlp.programs[0].redeemed == 8600
    promos = Customer.from_raw(load("get_customer_v2_embed_promotionalPoints_fragment.json"))
    assert [p.kind for p in promos.promotional_points] == ["customer"] * 3
    promo = promos.promotional_points[0]
    assert (promo.points, promo.issued_at_name, promo.promotion_source_type) == (
        Decimal("200.0"),
        "store 10",
        "GOODWILL",
    )
    subs = Customer.from_raw(load("get_customer_v2_embed_subscriptions_fragment.json"))
    assert len(subs.subscriptions) == 8
    assert (subs.subscriptions[0].channel, subs.subscriptions[0].priority) == ("EMAIL", "TRANS")


def test_customer_image() -> None:
    customer = Customer.from_raw(load("get_customer_v2_embed_customerImage_2021.json"))
    (image,) = customer.customer_images
    assert image.url.startswith("https://crm-nightly-new-fileservice.s3.amazonaws.com/")
    assert image.expires_at == datetime(2021, 11, 24, 16, 36, 43, tzinfo=UTC)
    assert image.name == "50583/343014824/0"
    newer = Customer.from_raw(load("get_customer_v2_embed_customerImage_2025.json"))
    assert newer.customer_images[0].file_size == 209859
    assert CustomerImage.from_raw({"filePath": "https://x/y.png"}).expires_at is None
    assert signed_url_expiry("http://[::1") is None


def test_expiry_schedules() -> None:
    customer = Customer.from_raw(load("points_expiry_schedule_v2_lookup_by_email_2025.json"))
    first = customer.expiry_schedules[0]
    assert first.expiry_date == datetime(2026, 6, 11, tzinfo=UTC)
    assert first.expiry_date_text == "2026-06-11T00:00:00Z"
    assert first.points == Decimal("331.9")
    old = Customer.from_raw(load("points_expiry_schedule_v2_by_id_2025.json"))
    assert old.expiry_schedules[0].expiry_date == datetime(2125, 5, 5)


def test_group_shapes() -> None:
    group = Customer.from_raw(load("usergroup2_details_gapToUpgrade_gapToRenew_2025.json"))
    second = group.programs[1]
    assert second.upgrade_strategies[0].based_on == "CURRENT_POINTS"
    assert second.upgrade_strategies[0].gap_to_upgrade == 2000
    assert second.upgrade_strategies[0].valid_until == datetime(2125, 11, 3)
    assert group.programs[0].gap_to_renew[0].renew_confirmed is False
    thrift = Customer.from_raw(
        load("usergroup2_details_expiredPoints_expirySchedules_gapToUpgrade_2022.json")
    )
    (strategy,) = thrift.upgrade_strategies
    assert strategy.based_on == "CUMULATIVE_PURCHASES"
    assert strategy.current_value == 0
    (expired,) = thrift.expired_points
    assert expired.summary[1].strategy_name == "20Days"
    assert expired.summary[0].new_expiry_date == datetime(2021, 11, 10, 1, 4, 5)


def test_upgrade_spellings() -> None:
    values = {"currentValue": 9786, "gapToUpgrade": 15214, "valueValidUpto": "2025-05-06"}
    for key in ("upgradeBasedOn", "upgrade_based_on"):
        strategy = UpgradeStrategy.from_raw(
            {
                key: "CUMULATIVE_PURCHASES",
                "upgradeThreshold": 25000,
                "customerUpgradeEntityValues": values,
            }
        )
        assert strategy.based_on == "CUMULATIVE_PURCHASES"
        assert strategy.gap_to_upgrade == 15214
        assert strategy.valid_until_text == "2025-05-06"


RENEW = {
    "tierExpiryDate": "2024-12-31",
    "renewConfirmed": False,
    "renewStrategies": [
        {
            "renewBasedOn": "TRACKER",
            "trackerEntityIdentifiers": [
                {
                    "trackerName": "DowngradeTracker",
                    "trackerType": "LINEITEM_COUNT",
                    "trackerMode": "MOVING_WINDOW",
                    "trackerCaseName": "Case1",
                    "trackerCasePeriodType": "DAYS",
                    "trackerCasePeriodValue": 5,
                }
            ],
            "renewThreshold": 5.0,
            "customerRenewEntityValue": 1,
            "customerGapToRenewValue": 4,
        }
    ],
}
UPGRADE = {"upgrade_based_on": "CURRENT_POINTS", "upgradeThreshold": 2000.0}


def test_gap_to_renew_shapes() -> None:
    gap = GapToRenew.from_raw(RENEW)
    strategy = gap.strategies[0]
    assert (strategy.based_on, strategy.threshold, strategy.gap) == ("TRACKER", 5, 4)
    tracker = strategy.trackers[0]
    assert (tracker.name, tracker.mode, tracker.case_name) == (
        "DowngradeTracker",
        "MOVING_WINDOW",
        "Case1",
    )
    assert tracker.period_value == 5
    as_list = LoyaltyProgram.from_raw({"gapToRenewSummary": [RENEW, RENEW]})
    assert len(as_list.gap_to_renew) == 2
    assert LoyaltyProgram.from_raw({"gapToRenewSummary": RENEW}).gap_to_renew == (gap,)


def test_top_level_gaps_attach_to_the_only_program() -> None:
    program = {"programId": 973, "currentSlab": "Topaz"}
    data = {
        "id": 1,
        "loyaltyProgramDetails": [program],
        "upgradeStrategies": [UPGRADE],
        "gapToRenewSummary": RENEW,
    }
    customer = Customer.from_raw(data)
    assert customer.upgrade_strategies == ()
    assert customer.gap_to_renew == ()
    assert customer.programs[0].upgrade_strategies[0].based_on == "CURRENT_POINTS"
    assert customer.programs[0].gap_to_renew[0].tier_expiry_date == datetime(2024, 12, 31)
    assert {"upgrade_strategies", "gap_to_renew", "programs"} <= customer.present

    summary_only = Customer.from_raw(
        {"id": 1, "pointsSummary": program, "upgradeStrategies": UPGRADE}
    )
    assert summary_only.points_summary.upgrade_strategies[0].threshold == 2000


def test_top_level_gaps_stay_when_several_programs() -> None:
    data = {
        "id": 1,
        "loyaltyProgramDetails": [{"programId": 973}, {"programId": 983}],
        "upgradeStrategies": [UPGRADE, {**UPGRADE, "programId": 983}],
        "gapToRenewSummary": [RENEW],
    }
    customer = Customer.from_raw(data)
    assert len(customer.upgrade_strategies) == 1
    assert len(customer.gap_to_renew) == 1
    assert customer.programs[0].upgrade_strategies == ()
    assert customer.programs[1].upgrade_strategies[0].program_id == 983


def test_criteria_as_lists_and_string_numbers() -> None:
    customer = Customer.from_raw(
        {
            "id": "42",
            "tierUpgradeCriteria": [{"purchaseValue": "120.50"}, {"purchaseValue": 5}],
            "membershipRetentionCriteria": [{"minVisits": "3"}],
            "loyaltyInfo": {"lifetimePurchases": "10200.000"},
        }
    )
    assert customer.id == 42
    assert [c.purchase_value for c in customer.tier_upgrade_criteria] == [Decimal("120.50"), 5]
    assert customer.membership_retention_criteria[0].min_visits == 3
    assert customer.loyalty_info.lifetime_purchases == Decimal("10200.000")


def test_sandbox_only_blocks() -> None:
    customer = Customer.from_raw(
        {
            "id": 1,
            "userGroups": [
                {"id": 7, "name": "Family 1", "role": "PRIMARY", "joinedDate": "2024-01-02"}
            ],
            "ug2Pagination": {"limit": 10, "offset": 0, "total": 1},
            "returnedPoints": [
                {"points": "12.50", "returnedOn": "2025-01-01T00:00:00Z", "bill": "B"}
            ],
            "associatedImages": [
                {"filePath": "https://img/b.png?X-Amz-Date=20250101T000000Z&X-Amz-Expires=60"}
            ],
            "segments": {"Activity segment": "Lapsed"},
        }
    )
    group = customer.user_groups[0]
    assert (group.id, group.name, group.role) == (7, "Family 1", "PRIMARY")
    assert group.raw["joinedDate"] == "2024-01-02"
    assert customer.ug2_pagination.total == 1
    assert customer.returned_points[0].points == Decimal("12.50")
    assert customer.returned_points[0].raw["bill"] == "B"
    assert customer.associated_images[0].expires_at == datetime(2025, 1, 1, 0, 1, tzinfo=UTC)
    assert customer.segments == {"Activity segment": "Lapsed"}


def test_card_date_only_created() -> None:
    card = Card.from_raw(
        {"createdDate": "2021-11-23", "statusInfo": {"autoUpdateTime": "2021-11-23"}}
    )
    assert card.created_date == datetime(2021, 11, 23)
    assert card.status.auto_update_time_text == "2021-11-23"


@pytest.mark.parametrize("name", CUSTOMER_FILES)
def test_every_sample_parses(name: str) -> None:
    data = load(name)
    customer = Customer.from_raw(data)
    assert customer.raw is data
    assert customer.present


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            found.append((*prefix, key))
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node[:2]):  # the first two items cover each shape
            found.append((*prefix, index))
            found.extend(_paths(value, (*prefix, index)))
    return found


REPLACEMENTS: list[Any] = [None, "x", "", [], [1, "a", None], 7, -1.5, {}, True, {"k": [None]}]


def _mutants(data: Any) -> Any:
    for path in _paths(data):
        deleted = copy.deepcopy(data)
        parent = deleted
        for step in path[:-1]:
            parent = parent[step]
        del parent[path[-1]]
        yield deleted
        for replacement in REPLACEMENTS:
            changed = copy.deepcopy(data)
            parent = changed
            for step in path[:-1]:
                parent = parent[step]
            parent[path[-1]] = replacement
            yield changed


@pytest.mark.parametrize("name", CUSTOMER_FILES)
def test_fuzzed_samples_never_crash(name: str) -> None:
    count = 0
    for mutant in _mutants(load(name)):
        customer = Customer.from_raw(mutant)
        assert isinstance(customer.display_name, str)
        assert isinstance(customer.present, frozenset)
        for program in customer.all_programs:
            assert program.enrolled in (True, False, None)
        for image in customer.customer_images:
            assert image.expires_at is None or image.expires_at.tzinfo is not None
        count += 1
    assert count > 10


@pytest.mark.parametrize("data", [None, [], "text", 12, 1.5, True, {"id": None}, {"id": []}])
def test_any_top_level_value(data: Any) -> None:
    customer = Customer.from_raw(data)
    assert customer.id is None
    assert customer.profiles == ()
    assert customer.display_name == ""
