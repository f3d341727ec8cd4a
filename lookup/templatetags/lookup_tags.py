"""Template filters for dates, amounts and data age."""

from __future__ import annotations

import functools
import zoneinfo
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation

from django import template
from django.utils.formats import number_format
from django.utils.html import format_html

register = template.Library()

NEVER_YEAR = 2100


def _zone(tz: object) -> zoneinfo.ZoneInfo | None:
    if isinstance(tz, zoneinfo.ZoneInfo):
        return tz
    if isinstance(tz, str) and tz:
        try:
            return zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return None
    return None


@register.filter
def when(value: object, tz: object = None) -> str:
    """Render a date or datetime in the viewer's zone, the original value on hover."""
    if value is None or value == "":
        return "—"
    if not isinstance(value, date):
        return str(value)
    # Equal datetimes in other zones compare equal: the ISO text keeps them apart.
    return _when(value.isoformat(), value, tz)


@functools.lru_cache(maxsize=4096)
def _when(original: str, value: date, tz: object) -> str:
    """The work of `when`, kept per value and zone: a tab shows the same dates on every view."""
    if value.year >= NEVER_YEAR:
        return format_html(
            '<time datetime="{}" title="{}">never expires</time>', original, original
        )
    if isinstance(value, datetime) and _date_only(value):
        # A date-only value (Capillary sends some as midnight UTC in the cluster's zone,
        # "05:30 IST"): the day, no clock time.
        text = calendar_day(value).strftime("%-d %b %Y")
    elif isinstance(value, datetime):
        zone = _zone(tz)
        shown = value.astimezone(zone) if zone and value.tzinfo else value
        text = shown.strftime("%-d %b %Y, %H:%M")
        # Every time says its zone; Capillary sent this one without any.
        text += f" {shown.tzname()}" if shown.tzinfo else " (zone not stated)"
    else:
        text = value.strftime("%-d %b %Y")
    return format_html('<time datetime="{}" title="{}">{}</time>', original, original, text)


def _date_only(value: datetime) -> bool:
    """Return True for a datetime that stands for a day: naive midnight, or midnight UTC."""
    if value.tzinfo is None:
        return value.time() == time(0)
    return value.astimezone(UTC).time() == time(0)


def calendar_day(value: date) -> date:
    """Return the calendar day a date-only value stands for, whatever clock time it carries.

    Capillary sends some dates (tier, card and points expiry) as instants: midnight UTC shown
    in the cluster's zone ("2027-01-05T05:30:00+05:30"), or the day's last second in the
    cluster's zone. Midnight UTC stands for its UTC day; anything else for its own day.
    """
    if not isinstance(value, datetime):
        return value
    if value.tzinfo is not None and value.astimezone(UTC).time() == time(0):
        return value.astimezone(UTC).date()
    return value.date()


@register.filter
def day(value: object, tz: object = None) -> str:
    """Render a date-only value as a date ("6 May 2027"), saying so when it has passed."""
    if value is None or value == "":
        return "—"
    if not isinstance(value, date):
        return str(value)
    original = value.isoformat()
    if value.year >= NEVER_YEAR:
        return format_html(
            '<time datetime="{}" title="{}">never expires</time>', original, original
        )
    shown = calendar_day(value)
    zone = _zone(tz)
    today = datetime.now(zone or UTC).date()
    ago = (today - shown).days
    passed = "" if ago <= 0 else " (yesterday)" if ago == 1 else f" ({ago} days ago)"
    return format_html(
        '<time datetime="{}" title="{}">{}</time>{}',
        shown.isoformat(),
        original,
        shown.strftime("%-d %b %Y"),
        passed,
    )


@register.filter
def amount(value: object, places: int = 2) -> str:
    """Format a number with grouping ("12,400"); whole numbers without decimals.

    Capillary pads numbers ("350.000", 2000.0): those are whole. Other numbers keep at
    least `places` decimals and every significant one beyond (12.125 is never 12.13).
    """
    if value in (None, ""):
        return "—"
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if not number.is_finite():
        return str(value)
    if number == number.to_integral_value():
        return number_format(int(number), force_grouping=True)
    significant = -number.normalize().as_tuple().exponent
    return number_format(number, decimal_pos=max(int(places), significant), force_grouping=True)


def age_words(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 5:
        return "just now"
    if seconds < 90:
        return f"{seconds} s ago"
    if seconds < 5400:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


@register.filter
def freshness(data: object) -> str:
    """Say how old fetched data is ("fetched 42 s ago")."""
    age = getattr(data, "age_seconds", None)
    if age is None:
        return "—"
    return f"fetched {age_words(age)}"
