"""Typed, forgiving records for a Get customer details answer; bad fields become defaults."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit


def to_decimal(value: Any) -> Decimal | None:
    """Return `value` as a finite Decimal (0.000, "120.50", 7), or None for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str) and len(value) <= 64:
        try:
            number = Decimal(value.strip().replace(",", ""))
        except InvalidOperation:
            return None
    else:
        return None
    return number if number.is_finite() else None


def parse_datetime(value: Any) -> datetime | None:
    """Return an ISO 8601 string (with offset, Z or date only) as a datetime, else None."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if not isinstance(value, str) or not 8 <= len(value.strip()) <= 64:
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except (ValueError, OverflowError):
        return None


def _str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float | Decimal):
        return str(value)
    return ""


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    number = to_decimal(value)
    if number is None or number != number.to_integral_value() or abs(number) > 2**63:
        return None
    return int(number)


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    return None


def _dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _many(value: Any) -> list[dict[str, Any]]:
    """Return the objects of a list, or a lone object as a list of one."""
    if isinstance(value, dict):
        return [value]
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _lookup(data: dict[str, Any], keys: tuple[tuple[str, ...], ...]) -> Any:
    """Return the first non-null value among `keys` (each a path into nested objects)."""
    for path in keys:
        value: Any = data
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None:
            return value
    return None


def _spec(convert: Callable[[Any], Any], keys: tuple[str, ...], default: Any = None) -> Any:
    if isinstance(default, dict | tuple):
        return field(default_factory=type(default), metadata={"keys": keys, "convert": convert})
    return field(default=default, metadata={"keys": keys, "convert": convert})


# Field specs: each names the JSON keys to try, in order, and how to convert the value.


def text(*keys: str) -> Any:
    return _spec(_str, keys, "")


def integer(*keys: str) -> Any:
    return _spec(_int, keys)


def number(*keys: str) -> Any:
    return _spec(to_decimal, keys)


def flag(*keys: str) -> Any:
    return _spec(_bool, keys)


def when(*keys: str) -> Any:
    return _spec(parse_datetime, keys)


def mapping(*keys: str) -> Any:
    return _spec(_dict, keys, {})


def many(cls: type[Record], *keys: str) -> Any:
    return _spec(lambda v: tuple(cls.from_raw(item) for item in _many(v)), keys, ())


def one(cls: type[Record], *keys: str) -> Any:
    return _spec(lambda v: cls.from_raw(v) if isinstance(v, dict) else None, keys)


@dataclass(frozen=True)
class Record:
    """Base of every record; `raw` keeps the source object so the UI can show unknown fields."""

    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_raw(cls, data: Any) -> Self:
        """Build the record from decoded JSON of any shape, never raising."""
        data = data if isinstance(data, dict) else {}
        values = {name: convert(_lookup(data, paths)) for name, convert, paths in _specs(cls)}
        return cls(raw=data, **values)


_SPECS: dict[type, list[tuple[str, Callable[[Any], Any], tuple[tuple[str, ...], ...]]]] = {}


def _specs(cls: type) -> list[tuple[str, Callable[[Any], Any], tuple[tuple[str, ...], ...]]]:
    """Return (field name, converter, key paths) of a record class, worked out once."""
    specs = _SPECS.get(cls)
    if specs is None:
        specs = [
            (f.name, f.metadata["convert"], tuple(tuple(k.split(".")) for k in f.metadata["keys"]))
            for f in dataclasses.fields(cls)
            if "convert" in f.metadata
        ]
        _SPECS[cls] = specs
    return specs


# Date fields come in pairs: `x` is the parsed datetime, `x_text` the string as sent (for hovers).


@dataclass(frozen=True)
class Till(Record):
    id: int | None = integer("id")
    code: str = text("code")
    name: str = text("name")
    type: str = text("type")


@dataclass(frozen=True)
class Attribution(Record):
    created_date: datetime | None = when("createDate", "createdDate")
    created_date_text: str = text("createDate", "createdDate")
    created_by: Till | None = one(Till, "createdBy")
    modified_by: Till | None = one(Till, "modifiedBy")
    modified_date: datetime | None = when("modifiedDate")
    modified_date_text: str = text("modifiedDate")
    created_from_source: str = text("createdFromSource")


@dataclass(frozen=True)
class Identifier(Record):
    type: str = text("type")
    value: str = text("value")
    series_id: int | None = integer("seriesId")
    status_label: str = text("statusLabel")


@dataclass(frozen=True)
class CommChannel(Record):
    type: str = text("type")
    value: str = text("value")
    primary: bool | None = flag("primary")
    verified: bool | None = flag("verified")
    meta: dict[str, Any] = mapping("meta")
    attributes: dict[str, Any] = mapping("attributes")


@dataclass(frozen=True)
class Profile(Record):
    source: str = text("source")
    account_id: str = text("accountId")
    user_id: int | None = integer("userId")
    first_name: str = text("firstName")
    last_name: str = text("lastName")
    attribution: Attribution | None = one(Attribution, "attribution")
    fields: dict[str, Any] = mapping("fields")
    all_fields: dict[str, Any] = mapping("allFields")
    identifiers: tuple[Identifier, ...] = many(Identifier, "identifiers")
    identifiers_all: tuple[Identifier, ...] = many(Identifier, "identifiersAll")
    comm_channels: tuple[CommChannel, ...] = many(CommChannel, "commChannels")
    conflicting_profiles: tuple[dict[str, Any], ...] = _spec(
        lambda v: tuple(_many(v)), ("conflictingProfileList",), ()
    )
    auto_update_time: datetime | None = when("autoUpdateTime")
    auto_update_time_text: str = text("autoUpdateTime")

    @property
    def full_name(self) -> str:
        return f"{self.first_name.strip()} {self.last_name.strip()}".strip()


@dataclass(frozen=True)
class LoyaltyInfo(Record):
    loyalty_type: str = text("loyaltyType")
    attribution: Attribution | None = one(Attribution, "attributionV2", "attribution")
    lifetime_purchases: Decimal | None = number("lifetimePurchases")
    score: Decimal | None = number("score")


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
    def enrolled(self) -> bool:
        """Return False when Capillary says the customer is not in this program (-1)."""
        return self.loyalty_id is not None and self.loyalty_id != -1

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
class CardStatus(Record):
    id: int | None = integer("id")
    label: str = text("label")
    label_id: int | None = integer("labelId")
    status: str = text("status")
    reason: str = text("reason")
    is_active: bool | None = flag("isActive")
    entity_id: int | None = integer("entityId")
    created_by: int | None = integer("createdBy")
    created_on: datetime | None = when("createdOn")
    created_on_text: str = text("createdOn")
    auto_update_time: datetime | None = when("autoUpdateTimeISO", "autoUpdateTime")
    auto_update_time_text: str = text("autoUpdateTimeISO", "autoUpdateTime")
    actions: tuple[dict[str, Any], ...] = _spec(lambda v: tuple(_many(v)), ("actions",), ())


@dataclass(frozen=True)
class Card(Record):
    id: int | None = integer("id")
    card_id: int | None = integer("cardId")
    card_number: str = text("cardNumber")
    card_external_id: str = text("cardExternalId")
    type: str = text("type")
    series_id: int | None = integer("seriesId")
    series_code: str = text("seriesCode")
    series_name: str = text("seriesName")
    customer_id: int | None = integer("customerId")
    org_id: int | None = integer("orgId")
    entity_id: int | None = integer("entityId")
    max_active_cards: int | None = integer("maxActiveCards")
    expiry_days: int | None = integer("expiryDays")
    issued_date: datetime | None = when("issuedDate")
    issued_date_text: str = text("issuedDate")
    # createdDate is date-only and deprecated; createdDateTimeISO replaces it.
    created_date: datetime | None = when("createdDateTimeISO", "createdDate")
    created_date_text: str = text("createdDateTimeISO", "createdDate")
    expiry_date: datetime | None = when("expiryDateISO", "expiryDate")
    expiry_date_text: str = text("expiryDateISO", "expiryDate")
    status: CardStatus | None = one(CardStatus, "statusInfo")
    mapped_entity_type: str = text("mappedEntity.type")
    mapped_entity_value: str = text("mappedEntity.value")
    mapped_entity: dict[str, Any] = mapping("mappedEntity")
    extended_fields: dict[str, Any] = mapping("extendedFields")
    custom_fields: dict[str, Any] = mapping("customFields")
    transaction_not_allowed: bool | None = flag("transactionNotAllowed")
    active_and_digital: bool | None = flag("activeAndDigital")


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
class Subscription(Record):
    channel: str = text("channel")
    priority: str = text("priority")
    type: str = text("type")
    account_id: str = text("accountId")
    campaign_id: int | None = integer("campaignId")
    communication_id: int | None = integer("communicationId")


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


def signed_url_expiry(url: str) -> datetime | None:
    """Return when a pre-signed S3 URL stops working (X-Amz-Date + X-Amz-Expires), if known."""
    try:
        query = parse_qs(urlsplit(url).query)
        signed = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        return signed + timedelta(seconds=int(query["X-Amz-Expires"][0]))
    except (KeyError, IndexError, ValueError, OverflowError):
        return None


@dataclass(frozen=True)
class CustomerImage(Record):
    """A customer photo; its URLs are pre-signed and expire, so never cache them."""

    secure_file_path: str = text("secureFilePath")
    file_path: str = text("filePath")
    code: int | None = integer("code")
    message: str = text("message")
    status: str = text("status")
    name: str = text("file.name")
    file_size: int | None = integer("file.fileSize")
    last_modified: datetime | None = when("file.lastModified")
    last_modified_text: str = text("file.lastModified")
    file: dict[str, Any] = mapping("file")

    @property
    def url(self) -> str:
        return self.secure_file_path or self.file_path

    @property
    def expires_at(self) -> datetime | None:
        return signed_url_expiry(self.url)


@dataclass(frozen=True)
class AssociatedImage(Record):
    """A barcode image; no example exists, so the URL is taken from any likely key."""

    url: str = text("secureFilePath", "filePath", "url", "imageUrl", "image")
    type: str = text("type", "imageType")
    name: str = text("name", "file.name")
    identifier_type: str = text("identifierType")
    identifier_value: str = text("identifierValue")

    @property
    def expires_at(self) -> datetime | None:
        return signed_url_expiry(self.url)


@dataclass(frozen=True)
class UserGroup(Record):
    id: int | None = integer("id", "groupId", "userGroup2Id", "userGroupId")
    name: str = text("groupName", "name")
    external_id: str = text("externalId")
    status: str = text("groupStatus", "status")
    role: str = text("role", "memberRole")
    primary_member: bool | None = flag("primaryMember", "isPrimaryMember")
    joined_on: datetime | None = when("joinedOn", "joinedDate", "joinedAt")
    joined_on_text: str = text("joinedOn", "joinedDate", "joinedAt")
    loyalty_details: tuple[dict[str, Any], ...] = _spec(
        lambda v: tuple(_many(v)), ("loyaltyDetails",), ()
    )


@dataclass(frozen=True)
class Ug2Pagination(Record):
    limit: int | None = integer("limit")
    offset: int | None = integer("offset")
    total: int | None = integer("total")


@dataclass(frozen=True)
class FraudDetails(Record):
    status: str = text("status")
    modified_on: datetime | None = when("modifiedOn")
    modified_on_text: str = text("modifiedOn")
    marked_by: str = text("markedBy.name", "markedBy.code", "markedBy")
    reason: str = text("reason")


@dataclass(frozen=True)
class ApiWarning(Record):
    """A `warnings[]` entry: the customer came back, but part of it may be missing."""

    code: int | None = integer("code")
    message: str = text("message")
    status: bool | None = flag("status")


Warning = ApiWarning  # noqa: A001 - the name the API uses


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
