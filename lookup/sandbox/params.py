"""Parsing and validation of the query string of ``GET /v2/customers/{id}``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from urllib.parse import parse_qs

SOURCES = ("INSTORE", "MARTJACK", "WECHAT", "LINE", "ALL")
MULTI_ACCOUNT_SOURCES = ("WECHAT", "LINE")
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
_EMBED_BY_LOWER = {name.lower(): name for name in EMBEDS}
FLAG_BLOCKS = (
    "ndncStatus",
    "optinStatus",
    "slabHistory",
    "tierUpgradeCriteria",
    "membershipRetentionCriteria",
)
QUERY_CACHE_SIZE = 256  # distinct query strings whose parse is remembered
DEFAULT_UG2_LIMIT = 10
MAX_UG2_LIMIT = 100
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off", "")


class ApiError(Exception):
    """A Capillary error answer: HTTP status plus one ``{status, code, message}`` entry."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, object]:
        """Return the v2 error envelope."""
        return {"errors": [{"status": False, "code": self.code, "message": self.message}]}


@dataclass
class Params:
    """The validated query of one customer request."""

    source: str
    account_id: str | None = None
    embeds: frozenset[str] = frozenset()
    include_all_groups: bool = False
    group_id: int | None = None
    group_loyalty: bool = False
    fraud: bool = False
    only_current_profile: bool = False
    joined_start: datetime | None = None
    joined_end: datetime | None = None
    offset: int = 0
    limit: int = DEFAULT_UG2_LIMIT
    sort_by: str = "joineddate"
    sort_desc: bool = True
    pagination: bool = False
    gap_to_upgrade: int | None = None
    gap_to_renew: int | None = None
    flags: frozenset[str] = field(default_factory=frozenset)

    @property
    def wants_groups(self) -> bool:
        """Return True if the user-group block was asked for."""
        return "userGroup" in self.embeds or self.include_all_groups or self.group_id is not None


def query_dict(query: str) -> dict[str, str]:
    """Return the query as a dict keyed by lower-cased name (first value wins)."""
    return {
        key.lower(): values[0] for key, values in parse_qs(query, keep_blank_values=True).items()
    }


def embed_names(raw: str) -> list[str]:
    """Return the embed values of ``raw``, canonicalised where known, sorted, unknown ones kept as sent."""
    names = {_EMBED_BY_LOWER.get(part.strip().lower(), part.strip()) for part in raw.split(",")}
    return sorted(name for name in names if name)


@lru_cache(maxsize=QUERY_CACHE_SIZE)
def query_embeds(query: str) -> tuple[str, ...]:
    """Return ``embed_names`` of the query's embed parameter (remembered per query string)."""
    return tuple(embed_names(query_dict(query).get("embed", "")))


def _bool(q: dict[str, str], name: str) -> bool:
    value = q.get(name.lower(), "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ApiError(400, 400, f"Invalid value for {name}")


def _int(q: dict[str, str], name: str, code: int = 400) -> int | None:
    value = q.get(name.lower(), "").strip()
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        raise ApiError(400, code, f"Invalid value for {name}") from None
    if number < 0:
        raise ApiError(400, code, f"Negative value not supported for {name}")
    return number


def _moment(q: dict[str, str], name: str, end: bool) -> datetime | None:
    value = q.get(name.lower(), "").strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace(" ", "T"))
    except ValueError:
        raise ApiError(400, 400, f"Invalid date format for {name}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if end and len(value) == 10:
        moment += timedelta(days=1) - timedelta(microseconds=1)  # a bare end date includes that day
    return moment


def parse(query: str) -> Params:
    """Validate ``query`` the way Capillary does, raising ``ApiError`` on the first problem."""
    q = query_dict(query)
    source = q.get("source", "").strip().upper()
    if not source:
        raise ApiError(400, 8016, "GET failed, No source passed")
    if source not in SOURCES:
        raise ApiError(400, 8003, "Invalid source")
    embeds = embed_names(q.get("embed", ""))
    if any(name not in EMBEDS for name in embeds):
        raise ApiError(400, 400, "Invalid embed value")
    params = Params(source=source, embeds=frozenset(embeds))
    account = q.get("accountid", "").strip()
    params.account_id = account or None
    params.include_all_groups = _bool(q, "includedAllUserGroup2")
    params.group_id = _int(q, "userGroup2Id")
    params.group_loyalty = _bool(q, "includedUserGroup2LoyaltyDetails")
    params.fraud = _bool(q, "includedFraudDetails")
    params.only_current_profile = _bool(q, "includedOnlyCurrentProfile")
    params.joined_start = _moment(q, "ug2JoinedStartDate", end=False)
    params.joined_end = _moment(q, "ug2JoinedEndDate", end=True)
    offset = _int(q, "ug2Offset", code=8100)
    params.offset = 0 if offset is None else offset
    limit = _int(q, "ug2Limit", code=8101)
    if limit is not None and limit > MAX_UG2_LIMIT:
        raise ApiError(400, 8102, f"Limit should not be greater than {MAX_UG2_LIMIT}")
    if limit == 0:
        raise ApiError(400, 8101, "Limit should be greater than 0")
    params.limit = DEFAULT_UG2_LIMIT if limit is None else limit
    sort_by = q.get("ug2sortby", "").strip().lower() or "joineddate"
    if sort_by not in ("joineddate", "name", "id"):
        raise ApiError(400, 400, "Invalid value for ug2SortBy")
    params.sort_by = sort_by
    order = q.get("ug2sortorder", "").strip().upper() or "DESC"
    if order not in ("ASC", "DESC"):
        raise ApiError(400, 400, "Invalid value for ug2SortOrder")
    params.sort_desc = order == "DESC"
    params.pagination = _bool(q, "ug2PaginationDetails")
    params.gap_to_upgrade = _int(q, "gapToUpgrade")
    params.gap_to_renew = _int(q, "gapToRenew")
    params.flags = frozenset(name for name in FLAG_BLOCKS if _bool(q, name))
    return params


@lru_cache(maxsize=QUERY_CACHE_SIZE)
def parse_cached(query: str) -> Params | ApiError:
    """Return ``parse(query)``, or the error it raises, remembered per query string.

    Callers share the result: read it, never change it.
    """
    try:
        return parse(query)
    except ApiError as error:
        return error.with_traceback(None)  # keep the answer, not the frames that raised it
