"""Records about the person: profiles, identifiers, cards, subscriptions, images, groups."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

from lookup.capillary.records.fields import (
    Record,
    _many,
    _spec,
    flag,
    integer,
    many,
    mapping,
    number,
    one,
    text,
    when,
)

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


def flags_read(values: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """Return the pairs of a free-form object with "true"/"false" strings (any case) as booleans."""
    return tuple((str(key), _flag_or_value(value)) for key, value in values.items())


def _flag_or_value(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value


@dataclass(frozen=True)
class CommChannel(Record):
    type: str = text("type")
    value: str = text("value")
    primary: bool | None = flag("primary")
    verified: bool | None = flag("verified")
    meta: dict[str, Any] = mapping("meta")
    attributes: dict[str, Any] = mapping("attributes")

    @property
    def meta_items(self) -> tuple[tuple[str, Any], ...]:
        """Return the meta flags (residence, office, subscriptions...) with booleans read."""
        return flags_read(self.meta)

    @property
    def attribute_items(self) -> tuple[tuple[str, Any], ...]:
        return flags_read(self.attributes)


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
class Subscription(Record):
    channel: str = text("channel")
    priority: str = text("priority")
    type: str = text("type")
    account_id: str = text("accountId")
    campaign_id: int | None = integer("campaignId")
    communication_id: int | None = integer("communicationId")


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

    @property
    def identity(self) -> tuple[int | None, str]:
        """Return (code, message): two warnings with the same identity say the same thing."""
        return self.code, " ".join(self.message.split())


Warning = ApiWarning  # noqa: A001 - the name the API uses


def unique_warnings(warnings: Iterable[ApiWarning]) -> list[ApiWarning]:
    """Return the first warning of each identity, in the order they came."""
    seen: set[tuple[int | None, str]] = set()
    unique = []
    for warning in warnings:
        if warning.identity not in seen:
            seen.add(warning.identity)
            unique.append(warning)
    return unique
