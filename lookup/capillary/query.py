"""Validated parameters of one Get customer details call (GET /v2/customers/{id})."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

SOURCES = ("INSTORE", "MARTJACK", "WECHAT", "LINE", "ALL")
EMBEDS = (
    "points",
    "subscriptions",
    "mlp",
    "userGroup",
    "gapDetails",
    "promotionalPoints",
    "expirySchedules",
    "expiredPoints",
    "customerImage",
    "returnedPoints",
    "associatedImages",
    "segments",
)
SORT_ORDERS = ("ASC", "DESC")
MAX_ID = 2**63 - 1
MAX_INT = 2**31 - 1

_EMBED_BY_LOWER = {name.lower(): name for name in EMBEDS}
_ACCOUNT_RE = re.compile(r"[A-Za-z0-9_.\-]{0,64}")
_SORT_BY_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_DIGITS_RE = re.compile(r"[0-9]{1,19}")
_TRUE = frozenset({"true", "1", "on", "yes"})
_FALSE = frozenset({"false", "0", "off", "no", ""})

# Field name -> query parameter name, in the order of the documented parameter table.
PARAM_NAMES: dict[str, str] = {
    "source": "source",
    "account_id": "accountId",
    "embed": "embed",
    "included_all_user_group2": "includedAllUserGroup2",
    "user_group2_id": "userGroup2Id",
    "included_user_group2_loyalty_details": "includedUserGroup2LoyaltyDetails",
    "included_fraud_details": "includedFraudDetails",
    "included_only_current_profile": "includedOnlyCurrentProfile",
    "ug2_joined_start_date": "ug2JoinedStartDate",
    "ug2_joined_end_date": "ug2JoinedEndDate",
    "ug2_offset": "ug2Offset",
    "ug2_limit": "ug2Limit",
    "ug2_sort_by": "ug2SortBy",
    "ug2_sort_order": "ug2SortOrder",
    "ug2_pagination_details": "ug2PaginationDetails",
    "gap_to_upgrade": "gapToUpgrade",
    "gap_to_renew": "gapToRenew",
    "ndnc_status": "ndncStatus",
    "optin_status": "optinStatus",
    "slab_history": "slabHistory",
    "tier_upgrade_criteria": "tierUpgradeCriteria",
    "membership_retention_criteria": "membershipRetentionCriteria",
}
_FIELD_BY_PARAM = {param.lower(): name for name, param in PARAM_NAMES.items()}
BOOL_FIELDS = (
    "included_all_user_group2",
    "included_user_group2_loyalty_details",
    "included_fraud_details",
    "included_only_current_profile",
    "ug2_pagination_details",
    "ndnc_status",
    "optin_status",
    "slab_history",
    "tier_upgrade_criteria",
    "membership_retention_criteria",
)
_INT_FIELDS = ("user_group2_id", "ug2_offset", "ug2_limit", "gap_to_upgrade", "gap_to_renew")
_DATE_FIELDS = ("ug2_joined_start_date", "ug2_joined_end_date")
_LABELS = {
    "customer_id": "Customer ID",
    "user_group2_id": "User group ID",
    "ug2_offset": "User group offset",
    "ug2_limit": "User group limit",
    "gap_to_upgrade": "Gap to upgrade",
    "gap_to_renew": "Gap to renew",
    "ug2_joined_start_date": "Joined-from date",
    "ug2_joined_end_date": "Joined-until date",
}


class InvalidQuery(ValueError):
    """A query parameter that cannot be sent; `message` is fit for a form error."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _label(name: str) -> str:
    return _LABELS.get(name, name.replace("_", " ").capitalize())


def _sortable(value: date) -> datetime:
    """Return a naive UTC datetime so dates, naive and aware datetimes compare."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value.astimezone(UTC).replace(tzinfo=None)
        return value
    return datetime(value.year, value.month, value.day)


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, frozenset):
        return ",".join(sorted(value))
    return str(value)


@dataclass(frozen=True)
class CustomerQuery:
    """Everything that selects what GET /v2/customers/{id} returns, already validated."""

    customer_id: int
    source: str = "INSTORE"
    account_id: str = ""
    embed: frozenset[str] = field(default_factory=frozenset)
    included_all_user_group2: bool = False
    user_group2_id: int | None = None
    included_user_group2_loyalty_details: bool = False
    included_fraud_details: bool = False
    included_only_current_profile: bool = False
    ug2_joined_start_date: date | datetime | None = None
    ug2_joined_end_date: date | datetime | None = None
    ug2_offset: int | None = None
    ug2_limit: int | None = None
    ug2_sort_by: str | None = None
    ug2_sort_order: str | None = None
    ug2_pagination_details: bool = False
    gap_to_upgrade: int | None = None
    gap_to_renew: int | None = None
    ndnc_status: bool = False
    optin_status: bool = False
    slab_history: bool = False
    tier_upgrade_criteria: bool = False
    membership_retention_criteria: bool = False

    def __post_init__(self) -> None:
        cid = self.customer_id
        if type(cid) is not int or not 0 < cid <= MAX_ID:
            raise InvalidQuery("customer_id", "Customer ID must be a positive whole number.")
        source = self.source.strip().upper() if isinstance(self.source, str) else None
        if source not in SOURCES:
            raise InvalidQuery("source", f"Source must be one of {', '.join(SOURCES)}.")
        self._set("source", source)
        if not isinstance(self.account_id, str) or not _ACCOUNT_RE.fullmatch(self.account_id):
            raise InvalidQuery(
                "account_id",
                "Account ID may have at most 64 letters, digits, dots, dashes or underscores.",
            )
        self._set("embed", self._clean_embed(self.embed))
        for name in BOOL_FIELDS:
            if not isinstance(getattr(self, name), bool):
                raise InvalidQuery(name, f"{_label(name)} must be true or false.")
        self._check_ints()
        self._check_dates()
        sort_by = self.ug2_sort_by
        if sort_by is not None and (
            not isinstance(sort_by, str) or not _SORT_BY_RE.fullmatch(sort_by)
        ):
            raise InvalidQuery(
                "ug2_sort_by", "User group sort field must be a field name such as JoinedDate."
            )
        order = self.ug2_sort_order
        if order is not None:
            order = order.strip().upper() if isinstance(order, str) else None
            if order not in SORT_ORDERS:
                raise InvalidQuery("ug2_sort_order", "User group sort order must be ASC or DESC.")
            self._set("ug2_sort_order", order)

    def _set(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)

    @staticmethod
    def _clean_embed(embed: Any) -> frozenset[str]:
        if isinstance(embed, str):
            embed = embed.split(",")
        try:
            items = list(embed)
        except TypeError:
            raise InvalidQuery("embed", "Embed must be a list of block names.") from None
        clean = set()
        for item in items:
            if not isinstance(item, str):
                raise InvalidQuery("embed", "Embed must be a list of block names.")
            if not item.strip():
                continue
            canonical = _EMBED_BY_LOWER.get(item.strip().lower())
            if canonical is None:
                raise InvalidQuery("embed", f"Unknown embed {item.strip()[:40]!r}.")
            clean.add(canonical)
        return frozenset(clean)

    def _check_ints(self) -> None:
        for name in _INT_FIELDS:
            value = getattr(self, name)
            if value is None:
                continue
            low, high = {"user_group2_id": (1, MAX_ID), "ug2_limit": (1, 100)}.get(
                name, (0, MAX_INT)
            )
            if type(value) is not int or not low <= value <= high:
                raise InvalidQuery(
                    name, f"{_label(name)} must be a whole number from {low} to {high}."
                )
        for name in ("gap_to_upgrade", "gap_to_renew"):
            if getattr(self, name) is not None and "mlp" not in self.embed:
                raise InvalidQuery(name, f"{_label(name)} needs the mlp embed.")

    def _check_dates(self) -> None:
        for name in _DATE_FIELDS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, date):
                raise InvalidQuery(name, f"{_label(name)} must be a date.")
        start, end = self.ug2_joined_start_date, self.ug2_joined_end_date
        if start is not None and end is not None and _sortable(start) > _sortable(end):
            raise InvalidQuery(
                "ug2_joined_end_date", "Joined-until date must not be before joined-from date."
            )

    @classmethod
    def parse(cls, customer_id: str, **raw: Any) -> CustomerQuery:
        """Build a query from untrusted strings, keyed by field or parameter name."""
        values: dict[str, Any] = {"customer_id": _parse_int("customer_id", customer_id, 1, MAX_ID)}
        for key, value in raw.items():
            name = key if key in PARAM_NAMES else _FIELD_BY_PARAM.get(key.lower())
            if name is None:
                raise InvalidQuery(key, f"Unknown parameter {key[:40]!r}.")
            if name == "embed" and isinstance(value, (list, tuple)):
                values[name] = value
                continue
            if value is None:
                continue
            if not isinstance(value, str):
                raise InvalidQuery(name, f"{_label(name)} is not valid.")
            text = value.strip()
            if name in BOOL_FIELDS:
                values[name] = _parse_bool(name, text)
            elif name in _INT_FIELDS:
                if text:
                    values[name] = _parse_int(name, text, 0, MAX_ID)
            elif name in _DATE_FIELDS:
                if text:
                    values[name] = _parse_date(name, text)
            elif name in ("ug2_sort_by", "ug2_sort_order"):
                if text:
                    values[name] = text
            elif name == "source":
                values[name] = text or "INSTORE"
            else:
                values[name] = text
        return cls(**values)

    @property
    def path(self) -> str:
        """Return the request path; the ID is an int, so it cannot alter the path."""
        return f"/v2/customers/{self.customer_id}"

    def params(self) -> list[tuple[str, str]]:
        """Return the non-default query parameters in documented order (source always)."""
        out = []
        for name, param in PARAM_NAMES.items():
            value = getattr(self, name)
            if name != "source" and (value is None or value is False or value in ("", frozenset())):
                continue
            out.append((param, _format(value)))
        return out

    def replace(self, **changes: Any) -> CustomerQuery:
        """Return a validated copy with `changes` applied."""
        return dataclasses.replace(self, **changes)

    def normalised_key(self) -> str:
        """Return a stable string naming this query, for cache keys."""
        return f"{self.customer_id}?{urlencode(self.params())}"


def _parse_int(name: str, text: Any, low: int, high: int) -> int:
    text = text.strip() if isinstance(text, str) else ""
    if not _DIGITS_RE.fullmatch(text) or not low <= int(text) <= high:
        if name == "customer_id":
            raise InvalidQuery(name, "Customer ID must be a positive whole number.")
        raise InvalidQuery(name, f"{_label(name)} must be a whole number.")
    return int(text)


def _parse_bool(name: str, text: str) -> bool:
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise InvalidQuery(name, f"{_label(name)} must be true or false.")


def _parse_date(name: str, text: str) -> date | datetime:
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidQuery(name, f"{_label(name)} must be a date such as 2025-01-31.") from None
