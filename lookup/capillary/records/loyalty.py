"""Records about loyalty: programs, tiers, gaps, points and their schedules."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from lookup.capillary.records.fields import (
    Record,
    _dict,
    _many,
    flag,
    integer,
    many,
    number,
    text,
    when,
)


@dataclass(frozen=True)
class PartnerProgram(Record):
    id: int | None = integer("partnerProgramId")
    name: str = text("partnerProgramName")
    description: str = text("partnerProgramDescription")
    tier_number: int | None = integer("partnerTierNumber")
    tier_name: str = text("partnerTierName")
    tier_expiry_date: datetime | None = when("partnerTierExpiryDate")
    tier_expiry_date_text: str = text("partnerTierExpiryDate")
    membership_id: str = text("partnerMembershipId")
    program_type: str = text("partnerProgramType")
    tier_based: bool | None = flag("tierBased")


_UPGRADE_VALUES = "customerUpgradeEntityValues."


@dataclass(frozen=True)
class UpgradeStrategy(Record):
    based_on: str = text("upgradeBasedOn", "upgrade_based_on")
    threshold: Decimal | None = number("upgradeThreshold", "upgrade_threshold")
    current_value: Decimal | None = number(_UPGRADE_VALUES + "currentValue", "currentValue")
    gap_to_upgrade: Decimal | None = number(_UPGRADE_VALUES + "gapToUpgrade", "gapToUpgrade")
    valid_until: datetime | None = when(_UPGRADE_VALUES + "valueValidUpto", "valueValidUpto")
    valid_until_text: str = text(_UPGRADE_VALUES + "valueValidUpto", "valueValidUpto")
    program_id: int | None = integer("programId")


@dataclass(frozen=True)
class Tracker(Record):
    name: str = text("trackerName")
    type: str = text("trackerType")
    mode: str = text("trackerMode")
    case_name: str = text("trackerCaseName")
    period_type: str = text("trackerCasePeriodType")
    period_value: Decimal | None = number("trackerCasePeriodValue")


@dataclass(frozen=True)
class RenewStrategy(Record):
    based_on: str = text("renewBasedOn", "renew_based_on")
    threshold: Decimal | None = number("renewThreshold")
    current_value: Decimal | None = number("customerRenewEntityValue")
    gap: Decimal | None = number("customerGapToRenewValue")
    trackers: tuple[Tracker, ...] = many(Tracker, "trackerEntityIdentifiers")


@dataclass(frozen=True)
class GapToRenew(Record):
    tier_expiry_date: datetime | None = when("tierExpiryDate")
    tier_expiry_date_text: str = text("tierExpiryDate")
    renew_confirmed: bool | None = flag("renewConfirmed")
    strategies: tuple[RenewStrategy, ...] = many(RenewStrategy, "renewStrategies")
    program_id: int | None = integer("programId")


@dataclass(frozen=True)
class LoyaltyProgram(Record):
    """One program's points and tier (`pointsSummary` or a `loyaltyProgramDetails` item)."""

    program_id: int | None = integer("programId")
    title: str = text("programTitle", "programName")
    description: str = text("programDescription")
    points_to_currency_ratio: Decimal | None = number("programPointsToCurrencyRatio")
    loyalty_id: int | None = integer("loyaltyId")
    current_slab: str = text("currentSlab")
    current_slab_description: str = text("currentSlabDescription")
    slab_number: int | None = integer("slabSNo")
    slab_expiry_date: datetime | None = when("slabExpiryDate")
    slab_expiry_date_text: str = text("slabExpiryDate")
    next_slab: str = text("nextSlab")
    next_slab_number: int | None = integer("nextSlabSerialNumber")
    next_slab_description: str = text("nextSlabDescription")
    loyalty_points: Decimal | None = number("loyaltyPoints")
    lifetime_points: Decimal | None = number("lifetimePoints")
    redeemed: Decimal | None = number("redeemed")
    expired: Decimal | None = number("expired")
    returned: Decimal | None = number("returned")
    adjusted: Decimal | None = number("adjusted")
    cumulative_purchases: Decimal | None = number("cumulativePurchases")
    delayed_points: Decimal | None = number("delayedPoints")
    delayed_returned_points: Decimal | None = number("delayedReturnedPoints")
    delayed_expired_points: Decimal | None = number("delayedExpiredPoints")
    total_available_points: Decimal | None = number("totalAvailablePoints")
    total_returned_points: Decimal | None = number("totalReturnedPoints")
    linked_partner_programs: tuple[PartnerProgram, ...] = many(
        PartnerProgram, "linkedPartnerPrograms"
    )
    upgrade_strategies: tuple[UpgradeStrategy, ...] = many(
        UpgradeStrategy, "upgradeStrategies", "gapToUpgrade"
    )
    gap_to_renew: tuple[GapToRenew, ...] = many(GapToRenew, "gapToRenewSummary", "gapToRenew")

    @property
    def enrolled(self) -> bool | None:
        """Return whether the customer is in this program: None when Capillary does not say.

        Only an explicit loyaltyId of -1, or a program with no membership data at all, means
        "not enrolled"; a tier or points without a loyaltyId is a member whose ID was not sent.
        """
        if self.loyalty_id is not None:
            return self.loyalty_id != -1
        return None if self._has_membership_data else False

    @property
    def _has_membership_data(self) -> bool:
        values = (
            self.current_slab,
            self.slab_number,
            self.loyalty_points,
            self.lifetime_points,
            self.total_available_points,
            self.redeemed,
            self.cumulative_purchases,
        )
        return any(value not in (None, "") for value in values)

    @property
    def top_tier(self) -> bool:
        return self.next_slab_number == -1


PointsSummary = LoyaltyProgram


@dataclass(frozen=True)
class ProgramRef(Record):
    id: int | None = integer("id")
    name: str = text("name")
    description: str = text("description")


@dataclass(frozen=True)
class GroupProgram(Record):
    group_program_id: int | None = integer("groupProgramId")
    title: str = text("title")
    description: str = text("description")
    programs: tuple[ProgramRef, ...] = many(ProgramRef, "programsList")
    lifetime_points: Decimal | None = number("lifetimePoints")
    loyalty_points: Decimal | None = number("loyaltyPoints")
    promised_points: Decimal | None = number("promisedPoints")
    points_to_currency_ratio: Decimal | None = number("pointsToCurrencyRatio")


@dataclass(frozen=True)
class SlabChange(Record):
    from_tier: str = text("from")
    to_tier: str = text("to")
    from_tier_expiry_date: datetime | None = when("fromTierExpiryDate")
    from_tier_expiry_date_text: str = text("fromTierExpiryDate")
    to_tier_expiry_date: datetime | None = when("toTierExpiryDate")
    to_tier_expiry_date_text: str = text("toTierExpiryDate")
    changed_on: datetime | None = when("changedOn", "changed_on")
    changed_on_text: str = text("changedOn", "changed_on")
    notes: str = text("notes")
    store_code: str = text("store.code")
    store_name: str = text("store.name")
    type: str = text("type")
    program_id: int | None = integer("programId", "program_id")


@dataclass(frozen=True)
class TierUpgradeCriteria(Record):
    purchase_type: str = text("purchaseType")
    description: str = text("description")
    purchase_value: Decimal | None = number("purchaseValue")
    program_id: int | None = integer("programId")


@dataclass(frozen=True)
class MembershipRetentionCriteria(Record):
    min_purchases: Decimal | None = number("minPurchases")
    min_visits: Decimal | None = number("minVisits")
    is_downgrade_strategy: bool | None = flag("isDownGradeStrategy", "isDowngradeStrategy")
    program_id: int | None = integer("programId")


@dataclass(frozen=True)
class PromotionalPoint(Record):
    kind: str = ""  # customer, transaction or lineitem: which list it came from
    points: Decimal | None = number("points")
    issued_at_code: str = text("issuedAt.code")
    issued_at_name: str = text("issuedAt.name")
    issued_on: datetime | None = when("issuedOn")
    issued_on_text: str = text("issuedOn")
    expiry_date: datetime | None = when("expiryDate")
    expiry_date_text: str = text("expiryDate")
    promotion_source_id: int | None = integer("promotionSource.promotionSourceId")
    promotion_source_type: str = text("promotionSource.promotionSourceType")
    program_id: int | None = integer("programId")
    promotion_name: str = text("promotionName")


PROMOTION_KINDS = {
    "customer": "customerPromotionType",
    "transaction": "transactionPromotionType",
    "lineitem": "lineitemPromotionType",
}


def _promotions(value: Any) -> tuple[PromotionalPoint, ...]:
    block = _dict(value)
    return tuple(
        dataclasses.replace(PromotionalPoint.from_raw(item), kind=kind)
        for kind, key in PROMOTION_KINDS.items()
        for item in _many(block.get(key))
    )


@dataclass(frozen=True)
class ExpirySchedule(Record):
    points: Decimal | None = number("points")
    # expiryDate (YYYY-MM-DD) is to be deprecated in favour of expiryDateISO.
    expiry_date: datetime | None = when("expiryDateISO", "expiryDate")
    expiry_date_text: str = text("expiryDateISO", "expiryDate")
    program_id: int | None = integer("programId")
    points_type: str = text("pointsType")
    expiry_type: str = text("expiryType")


@dataclass(frozen=True)
class ExpiredPointsEntry(Record):
    pa_type: str = text("paType")
    pa_id: int | None = integer("paId")
    reason_type: str = text("expiryUpdateReasonType")
    reason_note: str = text("expiryUpdateReasonNote")
    new_expiry_date: datetime | None = when("newExpiryDate")
    new_expiry_date_text: str = text("newExpiryDate")
    event_date: datetime | None = when("eventDate")
    event_date_text: str = text("eventDate")
    points: Decimal | None = number("points")
    strategy_name: str = text("strategyName")


@dataclass(frozen=True)
class ExpiredPoints(Record):
    points: Decimal | None = number("points")
    expired_on: datetime | None = when("expiredOn")
    expired_on_text: str = text("expiredOn")
    program_id: int | None = integer("programId")
    summary: tuple[ExpiredPointsEntry, ...] = many(ExpiredPointsEntry, "expiredPointsSummary")


@dataclass(frozen=True)
class ReturnedPoints(Record):
    """No example of this block exists, so only likely fields are typed; `raw` has the rest."""

    points: Decimal | None = number("points", "returnedPoints", "returned")
    program_id: int | None = integer("programId")
    returned_on: datetime | None = when("returnedOn", "returnedDate", "eventDate")
    returned_on_text: str = text("returnedOn", "returnedDate", "eventDate")
