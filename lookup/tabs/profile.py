"""The profile tab: every source profile, and the switch for this source only."""

from __future__ import annotations

from typing import Any

from lookup.tabs.common import TabContext, part

PARTS = ("base",)


def build(ctx: TabContext) -> dict[str, Any]:
    """Return the profile tab's context: every profile, and the only-current switch URLs."""
    customer = part(ctx, "base")
    return {
        "profiles": customer.profiles if customer is not None else (),
        "only_current": ctx.options.only_current_profile,
        "only_current_url": ctx.links.tab("profile", only_current_profile=True),
        "all_profiles_url": ctx.links.tab("profile", only_current_profile=False),
    }
