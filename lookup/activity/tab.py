"""The Activity tab itself: the URLs of its panels, which load once the tab is shown."""

from __future__ import annotations

from typing import Any

from lookup.activity.panels import PANELS
from lookup.tabs.common import TabContext


def build(ctx: TabContext) -> dict[str, Any]:
    """Return each panel's URL and the panel it loads after (the tab fetches nothing itself)."""
    return {
        "activity_panels": [
            (name, ctx.links.panel(name), after)
            for name, after in zip(PANELS, ("", *PANELS), strict=False)
        ]
    }
