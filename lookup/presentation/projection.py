"""The gap projection selector of the upgrade tab: today, tomorrow, +30 days or N days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.urls import reverse

from lookup.presentation.common import local_day
from lookup.tabs import TabContext

MAX_DAYS = 3650


@dataclass(frozen=True)
class Choice:
    """One projection link ("Tomorrow" -> ?days=1)."""

    label: str
    days: int
    href: str
    current: bool


@dataclass(frozen=True)
class Projection:
    """The gap projection in effect and the links that change it."""

    days: int
    text: str
    url: str
    hidden: tuple[tuple[str, str], ...]
    choices: tuple[Choice, ...]


def projection_text(days: int, now: datetime, tz: str | None) -> str:
    """Return "Today's values" or "Projected 30 days ahead, to 25 Dec 2026"."""
    if days <= 0:
        return "Today's values (no projection)"
    day = local_day(now, tz) + timedelta(days=days)
    return f"Projected {days} day{'s' if days != 1 else ''} ahead, to {day.day} {day:%b %Y}"


def projection(
    days: int, now: datetime, tz: str | None, url: str, keep: tuple[tuple[str, str], ...]
) -> Projection:
    """Return the projection selector for `url`, keeping the `keep` query parameters."""
    days = min(MAX_DAYS, max(0, days))
    choices = tuple(
        Choice(label, n, f"{url}?{urlencode((*keep, ('days', str(n))))}", n == days)
        for label, n in (("Today", 0), ("Tomorrow", 1), ("+30 days", 30))
    )
    return Projection(days, projection_text(days, now, tz), url, keep, choices)


def tab_url(ctx: TabContext, slug: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Return a tab's URL and the query parameters that select the same customer and org."""
    url = reverse("customer", args=[str(ctx.query.customer_id)]) + f"tabs/{slug}/"
    keep = [("source", ctx.query.source)]
    if ctx.query.account_id:
        keep.append(("accountId", ctx.query.account_id))
    if getattr(ctx.org, "slug", ""):
        keep.append(("org", ctx.org.slug))
    return url, tuple(keep)
