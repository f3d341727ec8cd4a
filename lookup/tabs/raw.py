"""The raw response tab: each part's request and the JSON Capillary sent."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from lookup.capillary import CapillaryError
from lookup.capillary import activity as q
from lookup.tabs.common import TabContext
from lookup.tabs.parts import PART_LABELS

# The raw tab shows every part of the customer cached now; the view names them.
PARTS: tuple[str, ...] = ()
# The Activity answers it lists, in words; each fetched one also shows its request, and
# one not fetched yet its endpoint (lookup.capillary.activity.PANELS).
ACTIVITY_LABELS = {
    "transactions": "Transactions, first page",
    "coupons": "Coupons",
    "ledger": "Points ledger",
    "transfers": "Points transfers",
    "goodwill": "Goodwill requests",
}


def pretty_json(text: str) -> str:
    """Return JSON text indented for reading, or the text as it is when it does not parse."""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def answer(value: Any) -> dict[str, Any]:
    """Return what the tab shows of one fetched answer: the call, its ID, age and JSON."""
    sent = value.call_params or value.params
    return {
        "path": value.path,
        "params": sent,
        "query_string": urlencode(sent),
        # The part came from a call that also answered other parts: its JSON is the
        # part's own blocks of that answer.
        "shared": sorted(sent) != sorted(value.params),
        "pretty": pretty_json(value.raw_text),
        "raw_text": value.raw_text,
        "request_id": value.request_id,
        "data": value,
    }


def build(ctx: TabContext) -> dict[str, Any]:
    """Return the raw tab's context: each part's request and the JSON Capillary sent, then
    the Activity answers cached now (or that they are not fetched yet)."""
    entries = []
    for name, value in ctx.parts.items():
        entry: dict[str, Any] = {"name": name, "label": PART_LABELS.get(name, name)}
        if isinstance(value, CapillaryError):
            entry.update(error=value, fields=value.log_fields())
        else:
            entry.update(answer(value))
        entries.append(entry)
    activity = [
        {
            "name": name,
            "label": ACTIVITY_LABELS.get(name, name),
            "endpoint": q.PANELS.get(name, ""),
            "missing": value is None,
        }
        | ({} if value is None else answer(value))
        for name, value in ctx.activity.items()
    ]
    return {"raw_entries": entries, "raw_activity": activity}
