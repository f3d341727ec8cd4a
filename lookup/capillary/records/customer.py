"""The customer record: every block of a Get customer details answer."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lookup.capillary.records.fields import Record, _many, _spec, integer, many, mapping, one, text
from lookup.capillary.records.loyalty import (
    ExpiredPoints,
    ExpirySchedule,
    GapToRenew,
    GroupProgram,
    LoyaltyProgram,
    MembershipRetentionCriteria,
    PromotionalPoint,
    ReturnedPoints,
    SlabChange,
    TierUpgradeCriteria,
    UpgradeStrategy,
    _promotions,
)
from lookup.capillary.records.people import (
    ApiWarning,
    AssociatedImage,
    Card,
    CustomerImage,
    FraudDetails,
    LoyaltyInfo,
    Profile,
    Subscription,
    Ug2Pagination,
    UserGroup,
)


def _subscriptions(value: Any) -> tuple[Subscription, ...]:
    # subscriptionInfo is an object holding `subscriptions`, or (tolerated) the list itself.
    items = value.get("subscriptions") if isinstance(value, dict) else value
    return tuple(Subscription.from_raw(item) for item in _many(items))


def _image_list(cls: type[Record]) -> Callable[[Any], tuple[Any, ...]]:
    return lambda v: tuple(cls.from_raw(item) for item in _many(v))


# JSON key(s) of each top-level block -> Customer attribute, for `Customer.present`.
BLOCKS: dict[str, tuple[str, ...]] = {
    "profiles": ("profiles",),
    "loyalty_info": ("loyaltyInfo",),
    "points_summary": ("pointsSummary",),
    "programs": ("loyaltyProgramDetails", "pointsSummaries"),
    "group_programs": ("groupLoyaltyProgramDetails",),
    "cards": ("cardDetails",),
    "segments": ("segments",),
    "associated_with": ("associatedWith",),
    "extended_fields": ("extendedFields",),
    "warnings": ("warnings",),
    "ndnc_status": ("ndncStatus",),
    "optin_status": ("optinStatus",),
    "slab_history": ("slabHistory",),
    "tier_upgrade_criteria": ("tierUpgradeCriteria",),
    "membership_retention_criteria": ("membershipRetentionCriteria",),
    "upgrade_strategies": ("upgradeStrategies", "gapToUpgrade"),
    "gap_to_renew": ("gapToRenewSummary", "gapToRenew"),
    "subscriptions": ("subscriptionInfo", "subscriptions"),
    "promotional_points": ("promotionalPoints",),
    "expiry_schedules": ("expirySchedules",),
    "expired_points": ("expiredPoints",),
    "returned_points": ("returnedPoints",),
    "customer_images": ("customerImage", "customerImages"),
    "associated_images": ("associatedImages",),
    "user_groups": ("userGroups", "userGroup", "userGroups2", "userGroup2", "groups"),
    "ug2_pagination": ("ug2Pagination",),
    "fraud_details": ("fraudDetails",),
}


def _belongs(program_id: int | None, program: LoyaltyProgram, count: int) -> bool:
    """Return True if a top-level gap block is about `program` (always, if it is the only one)."""
    return count == 1 or (program_id is not None and program_id == program.program_id)


@dataclass(frozen=True)
class Customer(Record):
    """One customer as Get customer details returned it."""

    id: int | None = integer("id")
    profiles: tuple[Profile, ...] = many(Profile, *BLOCKS["profiles"])
    loyalty_info: LoyaltyInfo | None = one(LoyaltyInfo, *BLOCKS["loyalty_info"])
    points_summary: LoyaltyProgram | None = _spec(
        lambda v: LoyaltyProgram.from_raw(_many(v)[0]) if _many(v) else None, ("pointsSummary",)
    )
    programs: tuple[LoyaltyProgram, ...] = many(LoyaltyProgram, *BLOCKS["programs"])
    group_programs: tuple[GroupProgram, ...] = many(GroupProgram, *BLOCKS["group_programs"])
    cards: tuple[Card, ...] = many(Card, *BLOCKS["cards"])
    segments: dict[str, Any] = mapping("segments")
    associated_with: str = text("associatedWith")
    extended_fields: dict[str, Any] = mapping("extendedFields")
    warnings: tuple[ApiWarning, ...] = many(ApiWarning, "warnings")
    ndnc_status: str = text("ndncStatus")
    optin_status: str = text("optinStatus")
    slab_history: tuple[SlabChange, ...] = many(SlabChange, "slabHistory.history", "slabHistory")
    tier_upgrade_criteria: tuple[TierUpgradeCriteria, ...] = many(
        TierUpgradeCriteria, "tierUpgradeCriteria"
    )
    membership_retention_criteria: tuple[MembershipRetentionCriteria, ...] = many(
        MembershipRetentionCriteria, "membershipRetentionCriteria"
    )
    # Top-level gap blocks that could not be attached to one program.
    upgrade_strategies: tuple[UpgradeStrategy, ...] = many(
        UpgradeStrategy, *BLOCKS["upgrade_strategies"]
    )
    gap_to_renew: tuple[GapToRenew, ...] = many(GapToRenew, *BLOCKS["gap_to_renew"])
    subscriptions: tuple[Subscription, ...] = _spec(_subscriptions, BLOCKS["subscriptions"], ())
    promotional_points: tuple[PromotionalPoint, ...] = _spec(
        _promotions, ("promotionalPoints",), ()
    )
    expiry_schedules: tuple[ExpirySchedule, ...] = many(ExpirySchedule, "expirySchedules")
    expired_points: tuple[ExpiredPoints, ...] = many(ExpiredPoints, "expiredPoints")
    returned_points: tuple[ReturnedPoints, ...] = many(ReturnedPoints, "returnedPoints")
    customer_images: tuple[CustomerImage, ...] = _spec(
        _image_list(CustomerImage), BLOCKS["customer_images"], ()
    )
    associated_images: tuple[AssociatedImage, ...] = _spec(
        _image_list(AssociatedImage), ("associatedImages",), ()
    )
    user_groups: tuple[UserGroup, ...] = many(UserGroup, *BLOCKS["user_groups"])
    ug2_pagination: Ug2Pagination | None = one(Ug2Pagination, "ug2Pagination")
    fraud_details: FraudDetails | None = one(FraudDetails, "fraudDetails")
    present: frozenset[str] = frozenset()

    @classmethod
    def from_raw(cls, data: Any) -> Customer:
        """Build the customer, attaching top-level gap blocks to their program."""
        customer = super().from_raw(data)
        raw = customer.raw
        present = frozenset(
            name for name, keys in BLOCKS.items() if any(raw.get(k) is not None for k in keys)
        )
        programs, summary = customer.programs, customer.points_summary
        upgrades, renewals = customer.upgrade_strategies, customer.gap_to_renew
        targets = programs or ((summary,) if summary else ())
        attached = []
        for program in targets:
            ups = [u for u in upgrades if _belongs(u.program_id, program, len(targets))]
            gaps = [g for g in renewals if _belongs(g.program_id, program, len(targets))]
            upgrades = tuple(u for u in upgrades if all(u is not x for x in ups))
            renewals = tuple(g for g in renewals if all(g is not x for x in gaps))
            attached.append(
                dataclasses.replace(
                    program,
                    upgrade_strategies=program.upgrade_strategies + tuple(ups),
                    gap_to_renew=program.gap_to_renew + tuple(gaps),
                )
            )
        changes: dict[str, Any] = {"present": present}
        if programs:
            changes["programs"] = tuple(attached)
        elif summary:
            changes["points_summary"] = attached[0]
        return dataclasses.replace(
            customer, upgrade_strategies=upgrades, gap_to_renew=renewals, **changes
        )

    @property
    def display_name(self) -> str:
        """Return "First Last" of the first profile with a name, else ""."""
        return next((p.full_name for p in self.profiles if p.full_name), "")

    @property
    def all_programs(self) -> tuple[LoyaltyProgram, ...]:
        """Return the per-program details, or the single points summary when that is all."""
        return self.programs or ((self.points_summary,) if self.points_summary else ())
