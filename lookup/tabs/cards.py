"""The cards tab: every card, sorted by status and expiry, with the ones needing care marked."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from lookup.capillary.records import Card
from lookup.tabs.common import (
    TabContext,
    date_only,
    error_templates,
    instant,
    local_day,
    never,
    part,
    part_errors,
    plural,
    section_state,
)
from lookup.templatetags.lookup_tags import calendar_day

PARTS = ("base",)
SOON_DAYS = 30
ACTIVE = "ACTIVE"


@dataclass(frozen=True)
class Badge:
    """A short label in words; `tone` only adds colour (ok, warn or err)."""

    text: str
    tone: str


@dataclass(frozen=True)
class CardView:
    """A card with its status, days to expiry and what makes it stand out."""

    card: Card
    status: str
    days_left: int | None
    badges: tuple[Badge, ...]
    transactions: str
    active_digital: str

    @property
    def created(self) -> datetime | date | None:
        return date_only(self.card.created_date)

    @property
    def status_changed(self) -> datetime | date | None:
        return date_only(self.card.status.auto_update_time) if self.card.status else None

    @property
    def last_digits(self) -> str:
        """Return the card number's last four characters, which masking leaves visible."""
        return str(self.card.card_number)[-4:]

    @property
    def card_key(self) -> str:
        """Return the card ID (or record ID) as a sort key, zero-padded."""
        key = self.card.card_id if self.card.card_id is not None else self.card.id
        return f"{key:020d}" if key is not None and key >= 0 else ""

    @property
    def expiry_key(self) -> str:
        """Return the expiry day as a sort key ("" for none; "never" sorts last)."""
        expiry = self.card.expiry_date
        return (
            "" if expiry is None else "9999" if never(expiry) else calendar_day(expiry).isoformat()
        )

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    @property
    def expiring_soon(self) -> bool:
        return self.days_left is not None and 0 <= self.days_left <= SOON_DAYS

    @property
    def past_expiry(self) -> bool:
        return self.days_left is not None and self.days_left < 0

    @property
    def stands_out(self) -> bool:
        """Return True for a card that is not ACTIVE or expires within 30 days (or has)."""
        return not self.active or self.expiring_soon or self.past_expiry


def card_status(card: Card) -> str:
    """Return the card's status code (statusInfo.status, else its label), upper-cased."""
    info = card.status
    return ((info.status or info.label) if info else "").strip().upper()


def days_left(expiry: datetime | None, now: datetime, tz: str | None) -> int | None:
    """Return whole days from today to the expiry day in the viewer's zone (None: no expiry)."""
    if expiry is None or never(expiry):
        return None
    today = local_day(now, tz)
    return (calendar_day(expiry) - today).days if today else None


def expiry_words(days: int) -> str:
    """Return "Expires in 12 days", "Expires today", "Expired 3 days ago"..."""
    if days == 0:
        return "Expires today"
    if days == 1:
        return "Expires tomorrow"
    if days > 1:
        return f"Expires in {days} days"
    if days == -1:
        return "Expired yesterday"
    return f"Expired {-days} days ago"


def _yes_no(value: bool | None, yes: str, no: str) -> str:
    return "not returned" if value is None else yes if value else no


def card_view(card: Card, now: datetime, tz: str | None) -> CardView:
    """Return the card with its status badge, and an expiry badge when it is due within 30 days."""
    status = card_status(card)
    days = days_left(card.expiry_date, now, tz)
    badges = [Badge(ACTIVE, "ok")] if status == ACTIVE else []
    if status != ACTIVE:
        label = card.status.label.strip() if card.status else ""
        text = status or "Status not returned"
        if label and label.upper() != status:
            text = f"{status} ({label})"
        badges.append(Badge(text, "err"))
    if days is not None and days <= SOON_DAYS:
        badges.append(Badge(expiry_words(days), "err" if days < 0 else "warn"))
    return CardView(
        card=card,
        status=status,
        days_left=days,
        badges=tuple(badges),
        transactions=_yes_no(
            card.transaction_not_allowed, "Transactions not allowed", "Transactions allowed"
        ),
        active_digital=_yes_no(card.active_and_digital, "Active and digital", "No"),
    )


def sort_cards(views: Iterable[CardView]) -> list[CardView]:
    """Return ACTIVE cards first, then other statuses alphabetically; soonest expiry first, none last."""

    def key(view: CardView) -> tuple[Any, ...]:
        expiry = instant(view.card.expiry_date) if not never(view.card.expiry_date) else None
        return (not view.active, view.status, expiry is None, expiry or 0.0)

    return sorted(views, key=key)


def card_summary(views: Iterable[CardView]) -> str:
    """Return "4 cards: 3 active, 1 blocked, 1 expiring in 12 days"."""
    views = sort_cards(views)
    if not views:
        return "No cards"
    counts = Counter(view.status for view in views)
    parts = [
        f"{count} {(status or 'status not returned').lower()}" for status, count in counts.items()
    ]
    # Expiry is news about cards still in use; the others' status already says it.
    soon = sum(view.active and view.expiring_soon for view in views)
    past = sum(view.active and view.past_expiry for view in views)
    if soon == 1:
        [view] = [view for view in views if view.active and view.expiring_soon]
        parts.append(f"1 {expiry_words(view.days_left).lower().replace('expires', 'expiring')}")
    elif soon:
        parts.append(f"{soon} expiring within {SOON_DAYS} days")
    if past:
        parts.append(f"{past} active past expiry date")
    return f"{plural(len(views), 'card')}: {', '.join(parts)}"


def build(ctx: TabContext) -> dict[str, Any]:
    """Return the cards tab's context."""
    base = part(ctx, "base")
    views = sort_cards(card_view(c, ctx.now, ctx.tz) for c in (base.cards if base else ()))
    return {
        "errors": part_errors(ctx, PARTS),
        "error_templates": error_templates("cards"),
        "card_views": views,
        "card_summary": card_summary(views),
        "cards_state": section_state(ctx, "base", "cards", views),
    }
