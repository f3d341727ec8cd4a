"""The identifiers tab: identifiers by type, channels, and the subscription grid."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from lookup.capillary.records import Identifier
from lookup.tabs.common import TabContext, part

PARTS = ("base", "subscriptions")
PRIORITIES = ("TRANS", "BULK")


def _by_type(identifiers: tuple[Identifier, ...]) -> dict[str, list[Identifier]]:
    grouped: dict[str, list[Identifier]] = defaultdict(list)
    for identifier in identifiers:
        grouped[identifier.type or "(no type)"].append(identifier)
    return dict(grouped)


def build(ctx: TabContext) -> dict[str, Any]:
    """Return the identifiers tab's context: identifiers by type and the subscription grid."""
    customer = part(ctx, "base")
    profiles = [
        {
            "profile": p,
            "identifiers": _by_type(p.identifiers),
            "identifiers_all": _by_type(p.identifiers_all),
            "identifiers_all_sent": "identifiersAll" in p.raw,
        }
        for p in (customer.profiles if customer is not None else ())
    ]
    subs_customer = part(ctx, "subscriptions")
    grid: dict[str, dict[str, str]] = {}
    priorities = list(PRIORITIES)
    subs_returned = subs_customer is not None and "subscriptions" in subs_customer.present
    for sub in subs_customer.subscriptions if subs_customer is not None else ():
        priority = sub.priority or "(none)"
        if priority not in priorities:
            priorities.append(priority)
        grid.setdefault(sub.channel or "(no channel)", {})[priority] = sub.type or "not set"
    rows = [
        {"channel": channel, "cells": [cells.get(p, "") for p in priorities]}
        for channel, cells in grid.items()
    ]
    return {
        "id_profiles": profiles,
        "sub_priorities": priorities,
        "sub_rows": rows,
        "subs_returned": subs_returned,
    }
