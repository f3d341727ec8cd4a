"""The header: who the customer is and where they stand, from the parts the first paint fetches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from lookup.capillary.records import LoyaltyProgram, unique_warnings
from lookup.tabs.cards import card_summary, card_view, sort_cards
from lookup.tabs.common import (
    TabContext,
    day_text,
    days_past,
    never,
    part,
    past_text,
    program_label,
)
from lookup.tabs.loyalty import POINTS_WARNINGS
from lookup.tabs.parts import HEADER_PARTS, PART_LABELS
from lookup.tabs.upgrade import Progress, renewal_view, upgrade_progress

# Fraud statuses that put a banner on every tab.
FLAGGED = frozenset({"MARKED", "CONFIRMED", "RECONFIRMED"})
PARTS = HEADER_PARTS


@dataclass(frozen=True)
class ProgramRow:
    """One program in the header: tier, points, the gap to the next tier, expiry and renewal."""

    title: str
    tier: str
    points: Decimal | None
    gap: Progress | None  # towards the next tier (the first upgrade strategy), None at the top
    gap_text: str  # "Ruby: 28,650 to go, 88%"
    expiry_text: str  # "Tier expires 6 May 2027", "Tier expired 70 days ago (23 Sep 2026)"
    expired: bool
    renewal_text: str  # "Renewal on track", "Renewal: 1,200 points to go by 6 May 2027"
    renewal_ok: bool | None  # None when Capillary said nothing about renewal


def gap_text(program: LoyaltyProgram, gap: Progress | None) -> str:
    """Return the gap to the next tier in words: "Ruby: 28,650 points to go, 88%"."""
    if program.top_tier:
        return "Top tier: no higher tier to reach"
    target = program.next_slab or "Next tier"
    if gap is None or (gap.gap is None and not gap.reached):
        return f"{target}: gap not returned"
    if gap.reached:
        return f"{target}: threshold reached"
    percent = f", {gap.percent:.0f}%" if gap.percent is not None else ""
    return f"{target}: {gap.gap_words} to go{percent}"


def expiry_text(program: LoyaltyProgram, now: datetime, tz: str | None) -> tuple[str, bool]:
    """Return the tier's expiry in words, and whether it has passed."""
    expiry = program.slab_expiry_date
    if expiry is None:
        return "Tier expiry not returned", False
    if never(expiry):
        return "Tier never expires", False
    if past := days_past(expiry, now, tz):
        return f"Tier expired {past_text(past)} ({day_text(expiry)})", True
    return f"Tier expires {day_text(expiry)}", False


def renewal_text(program: LoyaltyProgram, now: datetime, tz: str | None) -> tuple[str, bool | None]:
    """Return whether renewal of the current tier is on track, in words (True: on track)."""
    if not program.gap_to_renew:
        return "", None
    view = renewal_view(program.gap_to_renew[0], tz)
    if view.summary.renew_confirmed:
        return "Renewal confirmed", True
    if not view.bars:
        return "Renewal: no conditions returned", None
    open_bars = [bar for bar, _ in view.bars if not bar.reached]
    if not open_bars:
        return "Renewal on track: conditions met", True
    due = view.tier_expiry
    if due is not None and not never(due) and days_past(due, now, tz):
        return f"Renewal not met: was due {day_text(due)}", False
    by = f" by {day_text(due)}" if due is not None and not never(due) else ""
    return f"Renewal: {open_bars[0].gap_words} to go{by}", False


def program_rows(
    programs: tuple[LoyaltyProgram, ...], now: datetime, tz: str | None
) -> tuple[ProgramRow, ...]:
    """Return one header row per program (or the points summary when that is all)."""
    rows = []
    for program in programs:
        strategies = program.upgrade_strategies
        gap = upgrade_progress(strategies[0], tz) if strategies else None
        expiry, expired = expiry_text(program, now, tz)
        renewal, renewal_ok = renewal_text(program, now, tz)
        rows.append(
            ProgramRow(
                title=program.title or program_label(program.program_id, {}),
                tier=program.current_slab or "no tier",
                points=program.loyalty_points,
                gap=None if program.top_tier else gap,
                gap_text=gap_text(program, gap),
                expiry_text=expiry,
                expired=expired,
                renewal_text=renewal,
                renewal_ok=renewal_ok,
            )
        )
    return tuple(rows)


def build(ctx: TabContext) -> dict[str, Any]:
    """Return the header's context: a row per program, points, cards, fraud, NDNC and opt-in."""
    base, points, mlp = part(ctx, "base"), part(ctx, "points"), part(ctx, "mlp")
    programs = mlp.all_programs if mlp is not None else ()
    balance: Decimal | None = None
    balance_from = ""
    if points is not None and points.points_summary is not None:
        balance = points.points_summary.loyalty_points
        balance_from = "points summary"
    if balance is None and programs:
        values = [p.loyalty_points for p in programs if p.loyalty_points is not None]
        if values:
            balance, balance_from = sum(values, Decimal(0)), "sum over programs"
    fraud = base.fraud_details if base is not None else None
    status = (fraud.status or "").upper() if fraud is not None else ""
    # Each warning once: the points ones beside the balance, the rest under the header,
    # however many of the header's parts carried it.
    said = unique_warnings(
        warning for name in PARTS for warning in getattr(ctx.data(name), "warnings", ())
    )
    about_points = [w for w in said if w.code in POINTS_WARNINGS]
    cards = sort_cards(card_view(c, ctx.now, ctx.tz) for c in (base.cards if base else ()))
    return {
        "header_programs": programs,
        "header_rows": program_rows(programs, ctx.now, ctx.tz),
        "header_balance": balance,
        "header_balance_from": balance_from,
        "header_points_warnings": about_points,
        "header_warnings": [w for w in said if w.code not in POINTS_WARNINGS],
        "header_errors": [
            (PART_LABELS[name], ctx.error(name)) for name in ("points", "mlp") if ctx.error(name)
        ],
        "header_cards": card_summary(cards) if base is not None and "cards" in base.present else "",
        "header_cards_url": ctx.links.tab("cards"),
        "fraud": fraud,
        "fraud_status": status,
        "fraud_flagged": status in FLAGGED,
        "base_data": ctx.data("base"),
    }
