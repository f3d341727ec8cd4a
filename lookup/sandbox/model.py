"""The sandbox's internal customer record, from which every response is rendered."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cached_property
from typing import Any

IST = timezone(timedelta(hours=5, minutes=30))

# Keys of the v2 customer body, in the order Capillary writes them (the seed doc's order).
KEY_ORDER = (
    "id",
    "profiles",
    "loyaltyInfo",
    "fraudDetails",
    "segments",
    "associatedWith",
    "optinStatus",
    "slabHistory",
    "tierUpgradeCriteria",
    "customerImage",
    "associatedImages",
    "extendedFields",
    "ndncStatus",
    "pointsSummary",
    "loyaltyProgramDetails",
    "upgradeStrategies",
    "gapToRenewSummary",
    "subscriptionInfo",
    "promotionalPoints",
    "expirySchedules",
    "expiredPoints",
    "returnedPoints",
    "userGroups",
    "ug2Pagination",
    "cardDetails",
    "membershipRetentionCriteria",
    "warnings",
)


def iso(moment: datetime, tz: timezone = UTC) -> str:
    """Return ``moment`` as ISO 8601 seconds in ``tz``, writing UTC as ``Z``."""
    local = moment.astimezone(tz)
    if local.microsecond:
        local = local.replace(microsecond=0)
    text = local.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def day_start(day: date) -> datetime:
    """Return midnight UTC at the start of ``day``."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass
class UpgradeSpec:
    """One way to reach the next tier; rendered with a projection of N days."""

    based_on: str
    threshold: float
    value_today: float
    daily_change: float
    valid_days: int

    def render(self, days: int, today: date, key: str) -> dict[str, Any]:
        """Return the ``upgradeStrategies`` entry projected ``days`` from ``today``."""
        current = round(max(0.0, self.value_today + self.daily_change * days), 2)
        return {
            key: self.based_on,
            "upgradeThreshold": self.threshold,
            "customerUpgradeEntityValues": {
                "currentValue": current,
                "gapToUpgrade": round(max(0.0, self.threshold - current), 2),
                "valueValidUpto": (today + timedelta(days=self.valid_days + days)).isoformat(),
            },
        }


@dataclass
class RenewStrategy:
    """One renewal condition of the current tier."""

    based_on: str
    threshold: float
    value_today: float
    daily_change: float
    trackers: list[dict[str, Any]] = field(default_factory=list)

    def render(self, days: int) -> dict[str, Any]:
        """Return the ``renewStrategies`` entry projected ``days`` ahead."""
        value = round(max(0.0, self.value_today + self.daily_change * days), 2)
        entry: dict[str, Any] = {"renewBasedOn": self.based_on}
        if self.trackers:
            entry["trackerEntityIdentifiers"] = self.trackers
        entry["renewThreshold"] = self.threshold
        entry["customerRenewEntityValue"] = value
        entry["customerGapToRenewValue"] = round(max(0.0, self.threshold - value), 2)
        return entry


@dataclass
class RenewSpec:
    """What the customer must do to keep the current tier."""

    tier_expiry: date
    confirmed: bool
    strategies: list[RenewStrategy]

    def render(self, days: int) -> dict[str, Any]:
        """Return the ``gapToRenewSummary`` object projected ``days`` ahead."""
        return {
            "tierExpiryDate": self.tier_expiry.isoformat(),
            "renewConfirmed": self.confirmed,
            "renewStrategies": [s.render(days) for s in self.strategies],
        }


@dataclass
class Program:
    """One loyalty program membership: the mlp object plus its gap rules."""

    details: dict[str, Any]
    upgrades: list[UpgradeSpec] = field(default_factory=list)
    renew: RenewSpec | None = None


@dataclass
class Blocks:
    """The parts of a customer that only some queries show: the flag blocks and most embeds."""

    extras: dict[str, Any] = field(default_factory=dict)
    segments: dict[str, str] = field(default_factory=dict)
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    promotional_points: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    expiry_schedules: list[dict[str, Any]] = field(default_factory=list)
    expired_points: list[dict[str, Any]] = field(default_factory=list)
    returned_points: list[dict[str, Any]] = field(default_factory=list)
    image: dict[str, Any] | None = None
    user_groups: list[dict[str, Any]] = field(default_factory=list)
    fraud: dict[str, Any] = field(default_factory=dict)


@dataclass
class Customer:
    """Everything the sandbox knows about one customer.

    The body, programs and points are built up front; the other blocks (``blocks``) only
    when a request first asks for one, since most calls show none of them. ``build_blocks``
    must give the same blocks on every call and be safe to call from several threads.
    """

    id: int
    base: dict[str, Any]
    programs: list[Program] = field(default_factory=list)
    points_summary: dict[str, Any] | None = None
    barcodes: list[tuple[str, str]] = field(default_factory=list)
    gaps_top_level: bool = False
    renew_as_list: bool = False
    upgrade_key: str = "upgradeBasedOn"
    org_id: int = 100737
    build_blocks: Callable[[], Blocks] = field(default=Blocks, repr=False, compare=False)

    @cached_property
    def blocks(self) -> Blocks:
        """Return the on-demand blocks, building them on first use."""
        return self.build_blocks()


def program_details(
    *,
    program_id: int,
    title: str,
    description: str,
    tiers: list[str],
    slab_sno: int,
    slab_expiry: str,
    loyalty_id: int,
    purchases: float,
    lifetime: float,
    redeemed: float = 0.0,
    expired: float = 0.0,
    returned: float = 0.0,
    adjusted: float = 0.0,
    delayed: float = 0.0,
    partners: list[dict[str, Any]] | None = None,
    number: Any = float,
) -> dict[str, Any]:
    """Return a ``loyaltyProgramDetails`` item laid out like Capillary's samples."""
    points = lifetime - redeemed - expired - returned + adjusted
    has_next = slab_sno < len(tiers)
    return {
        "redeemed": number(redeemed),
        "expired": number(expired),
        "returned": number(returned),
        "adjusted": number(adjusted),
        "lifetimePoints": number(lifetime),
        "loyaltyPoints": number(points),
        "cumulativePurchases": number(purchases),
        "loyaltyId": loyalty_id,
        "currentSlab": tiers[slab_sno - 1],
        "nextSlab": tiers[slab_sno] if has_next else "",
        "nextSlabSerialNumber": slab_sno + 1 if has_next else -1,
        "nextSlabDescription": f"{tiers[slab_sno]} tier" if has_next else "",
        "slabSNo": slab_sno,
        "slabExpiryDate": slab_expiry,
        "programId": program_id,
        "delayedPoints": number(delayed),
        "delayedReturnedPoints": number(0.0),
        "delayedExpiredPoints": number(0.0),
        "totalAvailablePoints": number(points + delayed),
        "totalReturnedPoints": number(returned),
        "linkedPartnerPrograms": partners or [],
        "programTitle": title,
        "programDescription": description,
        "programPointsToCurrencyRatio": 1.0,
    }


POINTS_SUMMARY_KEYS = (
    "adjusted",
    "cumulativePurchases",
    "currentSlab",
    "expired",
    "lifetimePoints",
    "loyaltyId",
    "loyaltyPoints",
    "nextSlab",
    "nextSlabDescription",
    "nextSlabSerialNumber",
    "redeemed",
    "returned",
    "slabExpiryDate",
    "slabSNo",
)


def points_summary_of(details: dict[str, Any]) -> dict[str, Any]:
    """Return the ``pointsSummary`` block (embed=points) for a program's details."""
    return {key: details[key] for key in POINTS_SUMMARY_KEYS}
