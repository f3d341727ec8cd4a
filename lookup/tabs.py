"""The customer page's tabs: which upstream parts each needs, and who builds its context.

A *part* is one upstream call: the base record, or the base record with exactly one
embed (or one group of flags). Each part is cached on its own, so opening a tab
fetches only the parts it needs that are not cached yet, all at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lookup.capillary import CapillaryError, CustomerQuery
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

    def data(self, name: str):
        """Return the part's CustomerData, or None when it failed or was not fetched."""
        value = self.parts.get(name)
        return None if value is None or isinstance(value, CapillaryError) else value

    def error(self, name: str) -> CapillaryError | None:
        value = self.parts.get(name)
        return value if isinstance(value, CapillaryError) else None


@dataclass(frozen=True)
class Tab:
    slug: str
    label: str
    parts: tuple[str, ...]
    # Dotted path of `build(ctx: TabContext) -> dict` returning the tab's extra context.
    builder: str


TABS: tuple[Tab, ...] = (
    Tab("profile", "Profile", ("base",), "lookup.tabviews.profile"),
    Tab("identifiers", "Identifiers & channels", ("base", "subscriptions"), "lookup.tabviews.identifiers"),
    Tab(
        "loyalty",
        "Loyalty & tiers",
        ("base", "points", "mlp", "slabHistory", "expirySchedules", "expiredPoints",
         "returnedPoints", "promotionalPoints"),
        "lookup.presentation.loyalty",
    ),
    Tab("cards", "Cards", ("base",), "lookup.presentation.cards"),
    Tab("upgrade", "Upgrade & renewal", ("base", "gaps", "criteria"), "lookup.presentation.upgrade"),
    Tab(
        "groups",
        "Groups, segments & images",
        ("base", "userGroups", "segments", "customerImage", "associatedImages"),
        "lookup.tabviews.groups",
    ),
    Tab("raw", "Raw response", (), "lookup.tabviews.raw"),
)
TAB_BY_SLUG = {tab.slug: tab for tab in TABS}
DEFAULT_TAB = "profile"


def builder(tab: Tab) -> Callable[[TabContext], dict]:
    from importlib import import_module

    module, _, name = tab.builder.rpartition(".")
    return getattr(import_module(module), name)
