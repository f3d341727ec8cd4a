"""The page options a customer URL may carry (projection, profile switch, group paging)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from lookup.inputs import whole_number


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
