"""The customer page's tabs: which upstream parts each needs, and who builds its context.

A *part* is what one embed (or one group of flags) adds to the record, or the record
itself. Each part is cached on its own, so opening a tab fetches only the parts it needs
that are not cached yet, in one upstream call (lookup.services.combine).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lookup.capillary import CapillaryError, CustomerQuery
from lookup.inputs import whole_number
from lookup.links import link
from lookup.models import Org

# Single-embed parts: the part name is the embed's canonical spelling.
EMBED_PARTS = (
    "points",
    "mlp",
    "subscriptions",
    "expirySchedules",
    "expiredPoints",
    "returnedPoints",
    "promotionalPoints",
    "segments",
    "customerImage",
    "associatedImages",
)
# Parts that never outlive their pre-signed URLs in the cache.
IMAGE_PARTS = ("customerImage", "associatedImages")
HEADER_PARTS = ("base", "points", "mlp")
# What each part is, in words, for error panels and the raw response tab.
PART_LABELS = {
    "base": "Customer record (profiles, loyalty info, fraud, NDNC and opt-in status)",
    "points": "Points summary (embed=points)",
    "mlp": "Loyalty programs (embed=mlp, with today's gaps)",
    "subscriptions": "Subscriptions (embed=subscriptions)",
    "expirySchedules": "Points expiry schedule (embed=expirySchedules)",
    "expiredPoints": "Expired points (embed=expiredPoints)",
    "returnedPoints": "Returned points (embed=returnedPoints)",
    "promotionalPoints": "Promotional points (embed=promotionalPoints)",
    "segments": "Segments (embed=segments)",
    "customerImage": "Customer image (embed=customerImage)",
    "associatedImages": "Associated images (embed=associatedImages)",
    "slabHistory": "Tier history (slabHistory)",
    "criteria": "Upgrade and retention criteria",
    "gaps": "Gaps to upgrade and renew (embed=mlp with gapToUpgrade, gapToRenew)",
    "userGroups": "User groups (embed=userGroup)",
}


@dataclass(frozen=True)
class PageOptions:
    """What the viewer chose on the page, beyond the customer and source."""

    only_current_profile: bool = False
    gap_days: int = 0  # gapToUpgrade / gapToRenew projection, days from today
    ug2_offset: int = 0
    ug2_limit: int = 10
    ug2_sort_by: str = "JoinedDate"
    ug2_sort_order: str = "DESC"
    ug2_joined_start: dt.date | None = None
    ug2_joined_end: dt.date | None = None
    ug2_loyalty_details: bool = False


class BadOption(ValueError):
    """A page option in the URL that cannot be used; `message` is shown to the viewer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


MAX_GAP_DAYS = 3650
MAX_OFFSET = 2**31 - 1
MAX_LIMIT = 100
# Sort fields the user-group embed accepts, as sent -> as shown.
UG2_SORT_FIELDS = {"JoinedDate": "Joined date", "name": "Name", "id": "ID"}
_DEFAULTS = PageOptions()


def _whole(
    params: Mapping[str, str], name: str, label: str, low: int, high: int, default: int
) -> int:
    text = params.get(name, "").strip()
    if not text:
        return default
    number = whole_number(text, low, high)
    if number is None:
        raise BadOption(f"{label} must be a whole number from {low} to {high}.")
    return number


def _switch(params: Mapping[str, str], name: str, label: str) -> bool:
    text = params.get(name, "").strip().lower()
    if text in ("", "0", "false"):
        return False
    if text in ("1", "true"):
        return True
    raise BadOption(f"{label} must be 1 or 0.")


def _day(params: Mapping[str, str], name: str, label: str) -> dt.date | None:
    text = params.get(name, "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        pass
    raise BadOption(f"{label} must be a date such as 2025-01-31.")


def parse_options(params: Mapping[str, str]) -> PageOptions:
    """Return the page options named in the URL; raise BadOption on any bad value."""
    sort_by = params.get("ug2SortBy", "").strip() or _DEFAULTS.ug2_sort_by
    if sort_by not in UG2_SORT_FIELDS:
        raise BadOption(f"Sort groups by one of: {', '.join(UG2_SORT_FIELDS)}.")
    order = params.get("ug2SortOrder", "").strip().upper() or _DEFAULTS.ug2_sort_order
    if order not in ("ASC", "DESC"):
        raise BadOption("Group sort order must be ASC or DESC.")
    start = _day(params, "ug2From", "Joined-from date")
    end = _day(params, "ug2To", "Joined-until date")
    if start and end and start > end:
        raise BadOption("Joined-until date must not be before joined-from date.")
    return PageOptions(
        only_current_profile=_switch(params, "onlyCurrent", "Only current profile"),
        gap_days=_whole(params, "days", "Days ahead", 0, MAX_GAP_DAYS, 0),
        ug2_offset=_whole(params, "ug2Offset", "Group offset", 0, MAX_OFFSET, 0),
        ug2_limit=_whole(params, "ug2Limit", "Groups per page", 1, MAX_LIMIT, _DEFAULTS.ug2_limit),
        ug2_sort_by=sort_by,
        ug2_sort_order=order,
        ug2_joined_start=start,
        ug2_joined_end=end,
        ug2_loyalty_details=_switch(params, "ug2Loyalty", "Group loyalty details"),
    )


def option_params(options: PageOptions) -> list[tuple[str, str]]:
    """Return the URL parameters that reproduce these options (defaults left out)."""
    pairs = [
        ("onlyCurrent", "1" if options.only_current_profile else ""),
        ("days", str(options.gap_days) if options.gap_days else ""),
        ("ug2Offset", str(options.ug2_offset) if options.ug2_offset else ""),
        ("ug2Limit", "" if options.ug2_limit == _DEFAULTS.ug2_limit else str(options.ug2_limit)),
        ("ug2SortBy", "" if options.ug2_sort_by == _DEFAULTS.ug2_sort_by else options.ug2_sort_by),
        (
            "ug2SortOrder",
            "" if options.ug2_sort_order == _DEFAULTS.ug2_sort_order else options.ug2_sort_order,
        ),
        ("ug2From", options.ug2_joined_start.isoformat() if options.ug2_joined_start else ""),
        ("ug2To", options.ug2_joined_end.isoformat() if options.ug2_joined_end else ""),
        ("ug2Loyalty", "1" if options.ug2_loyalty_details else ""),
    ]
    return [(name, value) for name, value in pairs if value]


def part_query(base: CustomerQuery, name: str, options: PageOptions) -> CustomerQuery:
    """Return the upstream query for one named part of the page."""
    plain = CustomerQuery(
        customer_id=base.customer_id, source=base.source, account_id=base.account_id
    )
    if name == "base":
        return plain.replace(
            included_fraud_details=True,
            ndnc_status=True,
            optin_status=True,
            included_only_current_profile=options.only_current_profile,
        )
    if name == "mlp":
        # Today's gaps come with the programs at no extra cost, and make the programs
        # part the same query as the upgrade tab's gaps without a projection.
        return plain.replace(embed=frozenset({"mlp"}), gap_to_upgrade=0, gap_to_renew=0)
    if name in EMBED_PARTS:
        return plain.replace(embed=frozenset({name}))
    if name == "slabHistory":
        return plain.replace(slab_history=True)
    if name == "criteria":
        return plain.replace(tier_upgrade_criteria=True, membership_retention_criteria=True)
    if name == "gaps":
        return plain.replace(
            embed=frozenset({"mlp"}),
            gap_to_upgrade=options.gap_days,
            gap_to_renew=options.gap_days,
        )
    if name == "userGroups":
        return plain.replace(
            embed=frozenset({"userGroup"}),
            ug2_offset=options.ug2_offset,
            ug2_limit=options.ug2_limit,
            ug2_sort_by=options.ug2_sort_by,
            ug2_sort_order=options.ug2_sort_order,
            ug2_joined_start_date=options.ug2_joined_start,
            ug2_joined_end_date=options.ug2_joined_end,
            ug2_pagination_details=True,
            included_user_group2_loyalty_details=options.ug2_loyalty_details,
        )
    raise KeyError(name)


@dataclass
class TabContext:
    """Everything a tab's builder may use; `parts` maps part name to data or error."""

    org: Org
    query: CustomerQuery
    options: PageOptions
    tz: str
    parts: dict[str, Any]  # name -> services.CustomerData | CapillaryError
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    org_param: str = ""  # the `org` URL parameter as given ("" when the user has one org)

    def base_params(self) -> list[tuple[str, str]]:
        """Return the URL parameters naming the customer: source, accountId, org."""
        pairs = [("source", self.query.source)]
        if self.query.account_id:
            pairs.append(("accountId", self.query.account_id))
        if self.org_param:
            pairs.append(("org", self.org_param))
        return pairs

    def tab_url(self, slug: str, *, refresh: bool = False, **changes: Any) -> str:
        """Return the tab's URL keeping these options, with `changes` (PageOptions fields) applied."""
        options = dataclasses.replace(self.options, **changes) if changes else self.options
        pairs = self.base_params() + option_params(options)
        if refresh:
            pairs.append(("refresh", "1"))
        return link("customer-tab", (self.query.customer_id, slug), tuple(pairs))

    def page_url(self, *, refresh: bool = False, tab: str = "") -> str:
        """Return the whole page's URL keeping these options."""
        pairs = self.base_params() + option_params(self.options)
        if tab and tab != DEFAULT_TAB:
            pairs.append(("tab", tab))
        if refresh:
            pairs.append(("refresh", "1"))
        return link("customer", (self.query.customer_id,), tuple(pairs))

    def data(self, name: str):
        """Return the part's CustomerData, or None when it failed or was not fetched."""
        value = self.parts.get(name)
        return None if value is None or isinstance(value, CapillaryError) else value

    def error(self, name: str) -> CapillaryError | None:
        """Return the part's error, or None when it succeeded or was not fetched."""
        value = self.parts.get(name)
        return value if isinstance(value, CapillaryError) else None


@dataclass(frozen=True)
class Tab:
    """One tab of the customer page: its URL slug, label, upstream parts and builder."""

    slug: str
    label: str
    parts: tuple[str, ...]
    # Dotted path of `build(ctx: TabContext) -> dict` returning the tab's extra context.
    builder: str


TABS: tuple[Tab, ...] = (
    Tab("profile", "Profile", ("base",), "lookup.tabviews.profile"),
    Tab(
        "identifiers",
        "Identifiers & channels",
        ("base", "subscriptions"),
        "lookup.tabviews.identifiers",
    ),
    Tab(
        "loyalty",
        "Loyalty & tiers",
        (
            "base",
            "points",
            "mlp",
            "slabHistory",
            "expirySchedules",
            "expiredPoints",
            "returnedPoints",
            "promotionalPoints",
        ),
        "lookup.presentation.loyalty",
    ),
    Tab("cards", "Cards", ("base",), "lookup.presentation.cards"),
    Tab(
        "upgrade", "Upgrade & renewal", ("base", "gaps", "criteria"), "lookup.presentation.upgrade"
    ),
    Tab(
        "groups",
        "Groups, segments & images",
        ("base", "userGroups", "segments", "customerImage", "associatedImages"),
        "lookup.tabviews.groups",
    ),
    # Its panels load after the tab is shown, each its own part (lookup.views.activity).
    Tab("activity", "Activity", (), "lookup.activity.tab.build"),
    Tab("raw", "Raw response", (), "lookup.tabviews.raw"),
)
TAB_BY_SLUG = {tab.slug: tab for tab in TABS}
DEFAULT_TAB = "profile"


def part_queries(
    base: CustomerQuery, names: Iterable[str], options: PageOptions
) -> dict[str, CustomerQuery]:
    """Return the upstream query of each named part, in order, without repeats."""
    return {name: part_query(base, name, options) for name in dict.fromkeys(names)}


def builder(tab: Tab) -> Callable[[TabContext], dict]:
    """Return the tab's context builder (imported now, so a missing one fails late)."""
    from importlib import import_module

    module, _, name = tab.builder.rpartition(".")
    return getattr(import_module(module), name)
