"""Typed, forgiving records for a Get customer details answer; bad fields become defaults.

One package, split by concern: `fields` (converters and field specs), `people`
(profiles, cards, subscriptions, images, groups), `loyalty` (programs, tiers, gaps,
points) and `customer` (the whole answer).
"""

from __future__ import annotations

from lookup.capillary.records.customer import (
    Customer,
)
from lookup.capillary.records.fields import (
    Record,
    parse_datetime,
    to_decimal,
)
from lookup.capillary.records.loyalty import (
    PROMOTION_KINDS,
    ExpiredPoints,
    ExpiredPointsEntry,
    ExpirySchedule,
    GapToRenew,
    GroupProgram,
    LoyaltyProgram,
    MembershipRetentionCriteria,
    PartnerProgram,
    ProgramRef,
    PromotionalPoint,
    RenewStrategy,
    ReturnedPoints,
    SlabChange,
    TierUpgradeCriteria,
    Tracker,
    UpgradeStrategy,
)
from lookup.capillary.records.people import (
    ApiWarning,
    AssociatedImage,
    Attribution,
    Card,
    CardStatus,
    CommChannel,
    CustomerImage,
    FraudDetails,
    Identifier,
    LoyaltyInfo,
    Profile,
    Subscription,
    Till,
    Ug2Pagination,
    UserGroup,
    Warning,
    signed_url_expiry,
)

__all__ = [
    "ApiWarning",
    "AssociatedImage",
    "Attribution",
    "Card",
    "CardStatus",
    "CommChannel",
    "Customer",
    "CustomerImage",
    "ExpiredPoints",
    "ExpiredPointsEntry",
    "ExpirySchedule",
    "FraudDetails",
    "GapToRenew",
    "GroupProgram",
    "Identifier",
    "LoyaltyInfo",
    "LoyaltyProgram",
    "MembershipRetentionCriteria",
    "parse_datetime",
    "PartnerProgram",
    "Profile",
    "ProgramRef",
    "PROMOTION_KINDS",
    "PromotionalPoint",
    "Record",
    "RenewStrategy",
    "ReturnedPoints",
    "signed_url_expiry",
    "SlabChange",
    "Subscription",
    "TierUpgradeCriteria",
    "Till",
    "to_decimal",
    "Tracker",
    "Ug2Pagination",
    "UpgradeStrategy",
    "UserGroup",
    "Warning",
]
