"""The customer page's tabs: one module per tab, each naming its parts and its builder.

A tab module holds `PARTS` (the upstream parts it shows, see lookup.tabs.parts) and
`build(ctx) -> dict`, the template context of templates/lookup/tabs/<slug>.html. The header
(lookup.tabs.header) is built the same way from the parts the first paint fetches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lookup.activity import tab as activity
from lookup.tabs import cards, groups, identifiers, loyalty, profile, raw, upgrade
from lookup.tabs.common import TabContext
from lookup.tabs.links import DEFAULT_TAB, CustomerLinks
from lookup.tabs.options import UG2_SORT_FIELDS, BadOption, PageOptions, parse_options
from lookup.tabs.parts import (
    EMBED_PARTS,
    HEADER_PARTS,
    IMAGE_PARTS,
    PART_LABELS,
    part_queries,
    part_query,
)

__all__ = [
    "DEFAULT_TAB",
    "EMBED_PARTS",
    "HEADER_PARTS",
    "IMAGE_PARTS",
    "PART_LABELS",
    "TABS",
    "TAB_BY_SLUG",
    "UG2_SORT_FIELDS",
    "BadOption",
    "CustomerLinks",
    "PageOptions",
    "Tab",
    "TabContext",
    "parse_options",
    "part_queries",
    "part_query",
]


@dataclass(frozen=True)
class Tab:
    """One tab of the customer page: its URL slug, label, upstream parts and builder."""

    slug: str
    label: str
    parts: tuple[str, ...]
    build: Callable[[TabContext], dict[str, Any]]

    @property
    def template(self) -> str:
        """Return the template of the tab's body."""
        return f"lookup/tabs/{self.slug}.html"


TABS: tuple[Tab, ...] = (
    Tab("profile", "Profile", profile.PARTS, profile.build),
    Tab("identifiers", "Identifiers & channels", identifiers.PARTS, identifiers.build),
    Tab("loyalty", "Loyalty & tiers", loyalty.PARTS, loyalty.build),
    Tab("cards", "Cards", cards.PARTS, cards.build),
    Tab("upgrade", "Upgrade & renewal", upgrade.PARTS, upgrade.build),
    Tab("groups", "Groups, segments & images", groups.PARTS, groups.build),
    # Its panels load once the tab is shown, each its own part (lookup.views.activity).
    Tab("activity", "Activity", (), activity.build),
    Tab("raw", "Raw response", raw.PARTS, raw.build),
)
TAB_BY_SLUG = {tab.slug: tab for tab in TABS}
