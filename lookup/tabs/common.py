"""What every tab builder shares: its context, part access, section states, time zones and words."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from lookup.capillary import CapillaryError, CustomerQuery
from lookup.capillary.records import ApiWarning, Customer, LoyaltyProgram, unique_warnings
from lookup.models import Org
from lookup.tabs.links import CustomerLinks
from lookup.tabs.options import PageOptions
from lookup.templatetags.lookup_tags import NEVER_YEAR, amount, calendar_day

# Section states a template switches on: a failed part, a block Capillary left out,
# a block sent empty, or something to show.
ERROR, ABSENT, EMPTY, SHOWN = "error", "absent", "empty", "shown"


@dataclass
class TabContext:
    """Everything a tab's builder may use; `parts` maps part name to data or error."""

    org: Org
    query: CustomerQuery
    options: PageOptions
    tz: str
    parts: dict[str, Any]  # name -> services.CustomerData | CapillaryError
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    org_param: str = ""  # the `org` URL parameter as given ("" when the user has one org)
    # The raw tab's Activity answers in the cache: name -> services.CustomerData, or None
    # when not fetched yet (lookup.views.common.cached_activity).
    activity: dict[str, Any] = field(default_factory=dict)

    @property
    def links(self) -> CustomerLinks:
        """Return the builder of this customer's URLs, keeping the page's options."""
        return CustomerLinks(self.query, self.options, self.org_param)

    def data(self, name: str):
        """Return the part's CustomerData, or None when it failed or was not fetched."""
        value = self.parts.get(name)
        return None if value is None or isinstance(value, CapillaryError) else value

    def error(self, name: str) -> CapillaryError | None:
        """Return the part's error, or None when it succeeded or was not fetched."""
        value = self.parts.get(name)
        return value if isinstance(value, CapillaryError) else None


def error_templates(slug: str) -> tuple[str, str]:
    """Return the templates a section error is shown with: the shared one, else our fallback."""
    return ("lookup/_tab-error.html", f"lookup/tabs/{slug}.html#record-error")


def part(ctx: TabContext, name: str) -> Customer | None:
    """Return the parsed customer of a fetched part, or None when it failed or is missing."""
    return getattr(ctx.data(name), "customer", None)


def part_errors(ctx: TabContext, names: Iterable[str]) -> dict[str, CapillaryError]:
    """Return the failed parts among `names`, by part name."""
    return {name: error for name in names if (error := ctx.error(name)) is not None}


def part_warnings(ctx: TabContext, name: str, codes: Iterable[int]) -> tuple[ApiWarning, ...]:
    """Return the part's Capillary warnings whose code is one of `codes`, each said once."""
    wanted = set(codes)
    warnings = getattr(ctx.data(name), "warnings", None) or ()
    return tuple(
        unique_warnings(w for w in warnings if isinstance(w, ApiWarning) and w.code in wanted)
    )


def section_state(ctx: TabContext, name: str, block: str, items: Any) -> str:
    """Return how a section of part `name` showing `block` (a Customer.present key) stands."""
    if ctx.error(name) is not None:
        return ERROR
    customer = part(ctx, name)
    if customer is None or block not in customer.present:
        return ABSENT
    return SHOWN if items else EMPTY


def zone(tz: str | None) -> zoneinfo.ZoneInfo | None:
    """Return the named time zone, or None for a blank or unknown name."""
    try:
        return zoneinfo.ZoneInfo(tz) if tz else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def local(value: datetime | None, tz: str | None) -> datetime | None:
    """Return an aware datetime in the viewer's zone; naive (date-only) values as they are."""
    if value is None or value.tzinfo is None:
        return value
    zone_info = zone(tz)
    return value.astimezone(zone_info) if zone_info else value


def local_day(value: datetime | None, tz: str | None) -> date | None:
    """Return the calendar day of `value` as the viewer sees it."""
    shown = local(value, tz)
    return shown.date() if shown else None


def instant(value: datetime | None) -> float | None:
    """Return a sortable timestamp, reading a naive value as UTC, so naive and aware mix."""
    if value is None:
        return None
    try:
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    except (OverflowError, ValueError):
        return None


def never(value: datetime | date | None) -> bool:
    """Return True for Capillary's "never expires" dates (year 2100 and later)."""
    return value is not None and value.year >= NEVER_YEAR


def date_only(value: datetime | date | None) -> datetime | date | None:
    """Return a date-only value (parsed as naive midnight) as a date, so it shows no time."""
    if isinstance(value, datetime) and value.tzinfo is None and value.time() == time(0):
        return value.date()
    return value


def day_text(value: datetime | date | None, tz: str | None = None) -> str:
    """Return a date-only value as "6 May 2025", "never" for 2100+, "" for None."""
    if value is None:
        return ""
    if never(value):
        return "never"
    day = calendar_day(value)
    return f"{day.day} {day:%b %Y}"


def days_past(value: datetime | date | None, now: datetime, tz: str | None) -> int:
    """Return how many days ago a date-only value's day was (0 for today or later)."""
    if value is None or never(value):
        return 0
    today = local_day(now, tz) or now.date()
    return max(0, (today - calendar_day(value)).days)


def past_text(days: int) -> str:
    """Return "yesterday" or "70 days ago" for a day that has passed."""
    return "yesterday" if days == 1 else f"{days} days ago"


def number(value: Decimal | None) -> str:
    """Return a number as the `amount` filter shows it (grouped, whole numbers bare)."""
    return amount(value)


def words(code: str) -> str:
    """Return an UPPER_SNAKE code in words ("CURRENT_POINTS" -> "Current points")."""
    return code.replace("_", " ").strip().capitalize()


def plural(count: int, singular: str, many: str | None = None) -> str:
    """Return "1 card" / "3 cards"."""
    return f"{count} {singular if count == 1 else many or singular + 's'}"


def total(values: Iterable[Decimal | None]) -> Decimal | None:
    """Return the sum of the known values, or None when none is known."""
    known = [value for value in values if value is not None]
    return sum(known, Decimal(0)) if known else None


def program_titles(programs: Iterable[LoyaltyProgram]) -> dict[int, str]:
    """Return programId -> title for the programs that have both."""
    return {p.program_id: p.title for p in programs if p.program_id is not None and p.title}


def program_label(program_id: int | None, titles: dict[int, str]) -> str:
    """Return a program's title, or "Program 983" when only its ID is known."""
    if program_id is None:
        return "Program not stated"
    return titles.get(program_id) or f"Program {program_id}"


@dataclass(frozen=True)
class WithProgram:
    """A record beside the title of the program it belongs to."""

    item: Any
    program: str
    when: datetime | date | None = None  # the item's main date, date-only values as dates
