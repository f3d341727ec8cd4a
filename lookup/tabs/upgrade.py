"""The upgrade tab: progress to the next tier, renewal of this one, criteria, and projection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from lookup.capillary.records import (
    ApiWarning,
    GapToRenew,
    LoyaltyProgram,
    MembershipRetentionCriteria,
    RenewStrategy,
    TierUpgradeCriteria,
    UpgradeStrategy,
)
from lookup.tabs.common import (
    ABSENT,
    EMPTY,
    ERROR,
    SHOWN,
    TabContext,
    date_only,
    day_text,
    error_templates,
    local_day,
    never,
    number,
    part,
    part_errors,
    part_warnings,
    program_label,
    program_titles,
    section_state,
    words,
)
from lookup.tabs.options import MAX_GAP_DAYS, option_params

PARTS = ("base", "gaps", "criteria")
# What the numbers of a strategy count, as the sentence names them.
UNITS = {
    "CUMULATIVE_PURCHASES": "in purchases",
    "PURCHASE": "in purchases",
    "PURCHASES": "in purchases",
    "CURRENT_POINTS": "points",
    "CUMULATIVE_POINTS": "points",
    "POINTS": "points",
    "TRACKER_VALUE_BASED": "tracker value",
    "TRACKER": "tracker value",
    "VISITS": "visits",
}
NAMES = {
    "CUMULATIVE_PURCHASES": "Cumulative purchases",
    "CUMULATIVE_POINTS": "Cumulative points",
    "CURRENT_POINTS": "Current points",
    "TRACKER_VALUE_BASED": "Tracker value",
    "VISITS": "Visits",
    "PURCHASE": "Purchases",
    "POINTS": "Points",
    "TRACKER": "Tracker",
}
# 8076 "Gap details missing"; 91011/91012 already in the lowest/highest tier;
# 91013/91014 the points engine's upgrade/renewal criteria calls failed.
GAP_WARNINGS = (8076, 91011, 91012, 91013, 91014)
NO_DOWNGRADE = "No downgrade strategy is configured for this program, so the tier cannot drop."
HUNDRED = Decimal(100)


def strategy_name(code: str) -> str:
    """Return a strategy code in plain words ("CURRENT_POINTS" -> "Current points")."""
    code = code.strip().upper()
    return NAMES.get(code) or words(code) or "Strategy not named"


@dataclass(frozen=True)
class Progress:
    """How far a customer is towards a threshold, as numbers and as a sentence."""

    name: str
    code: str
    threshold: Decimal | None
    current: Decimal | None
    gap: Decimal | None
    percent: Decimal | None  # 0..100, None when it cannot be worked out
    reached: bool
    deadline: datetime | date | None
    sentence: str
    unit: str = ""

    @property
    def gap_words(self) -> str:
        """Return what is left in words ("15,214 points", "14,800 in purchases")."""
        return f"{number(self.gap)} {self.unit}".rstrip()

    @property
    def percent_value(self) -> str:
        """Return the percentage for aria-valuenow and the bar width ("61.2")."""
        return (
            format(self.percent.quantize(Decimal("0.1")), "f") if self.percent is not None else ""
        )


def percent_of(current: Decimal | None, threshold: Decimal | None) -> Decimal | None:
    """Return current / threshold as a percentage clamped to 0..100."""
    if current is None or threshold is None:
        return None
    if threshold <= 0:
        return HUNDRED
    return min(HUNDRED, max(Decimal(0), current * HUNDRED / threshold))


def progress(
    code: str,
    threshold: Decimal | None,
    current: Decimal | None,
    gap: Decimal | None,
    deadline: datetime | date | None,
    tz: str | None,
) -> Progress:
    """Return progress towards `threshold` with its sentence, e.g.

    "9,786 of 25,000 points — 15,214 to go, by 6 May 2025".
    """
    deadline = date_only(deadline)
    unit = UNITS.get(code.strip().upper(), words(code).lower())
    if current is None and threshold is not None and gap is not None:
        current = threshold - gap
    if gap is None and threshold is not None and current is not None:
        gap = max(Decimal(0), threshold - current)
    reached = (gap is not None and gap <= 0) or (
        current is not None and threshold is not None and current >= threshold
    )
    percent = HUNDRED if reached else percent_of(current, threshold)
    of = f"{number(current)} of {number(threshold)} {unit}".rstrip()
    if threshold is None and current is None:
        sentence = "Capillary sent no threshold or current value."
    elif reached:
        sentence = f"Threshold reached — {of}"
    else:
        sentence = f"{of} — {number(gap)} to go"
        if deadline is not None and not never(deadline):
            sentence += f", by {day_text(deadline, tz)}"
    return Progress(
        strategy_name(code),
        code,
        threshold,
        current,
        gap,
        percent,
        reached,
        deadline,
        sentence,
        unit,
    )


def upgrade_progress(strategy: UpgradeStrategy, tz: str | None) -> Progress:
    """Return the progress of one upgrade strategy, by its value's valid-until date."""
    return progress(
        strategy.based_on,
        strategy.threshold,
        strategy.current_value,
        strategy.gap_to_upgrade,
        strategy.valid_until,
        tz,
    )


def renew_progress(strategy: RenewStrategy, deadline: datetime | None, tz: str | None) -> Progress:
    """Return the progress of one renewal strategy, by the tier's expiry date."""
    return progress(
        strategy.based_on, strategy.threshold, strategy.current_value, strategy.gap, deadline, tz
    )


@dataclass(frozen=True)
class RenewalView:
    """A gapToRenewSummary with one bar per renewal strategy (beside the strategy itself)."""

    summary: GapToRenew
    bars: tuple[tuple[Progress, RenewStrategy], ...]

    @property
    def tier_expiry(self) -> datetime | date | None:
        return date_only(self.summary.tier_expiry_date)


def renewal_view(summary: GapToRenew, tz: str | None) -> RenewalView:
    """Return the renewal summary with its strategies' progress."""
    return RenewalView(
        summary,
        tuple((renew_progress(s, summary.tier_expiry_date, tz), s) for s in summary.strategies),
    )


@dataclass(frozen=True)
class ProgramGaps:
    """One program's (or "All programs") upgrade bars and renewal summaries."""

    title: str
    program: LoyaltyProgram | None
    upgrades: tuple[Progress, ...]
    renewals: tuple[RenewalView, ...]

    @property
    def base_tier(self) -> bool:
        return self.program is not None and self.program.slab_number == 1

    @property
    def top_tier(self) -> bool:
        return self.program is not None and self.program.top_tier


def program_gaps(
    programs: tuple[LoyaltyProgram, ...],
    loose_upgrades: tuple[UpgradeStrategy, ...],
    loose_renewals: tuple[GapToRenew, ...],
    tz: str | None,
) -> tuple[ProgramGaps, ...]:
    """Return each program's gaps, then top-level ones no program claimed as "All programs"."""
    result = [
        ProgramGaps(
            program_label(p.program_id, program_titles([p])),
            p,
            tuple(upgrade_progress(u, tz) for u in p.upgrade_strategies),
            tuple(renewal_view(g, tz) for g in p.gap_to_renew),
        )
        for p in programs
    ]
    if loose_upgrades or loose_renewals:
        result.append(
            ProgramGaps(
                "All programs",
                None,
                tuple(upgrade_progress(u, tz) for u in loose_upgrades),
                tuple(renewal_view(g, tz) for g in loose_renewals),
            )
        )
    return tuple(result)


@dataclass(frozen=True)
class Criteria:
    """A criteria record with its program's title and its wording."""

    item: TierUpgradeCriteria | MembershipRetentionCriteria
    program: str
    words: str = ""  # purchaseType in words, or the no-downgrade note


def upgrade_criteria(
    items: tuple[TierUpgradeCriteria, ...], titles: dict[int, str]
) -> tuple[Criteria, ...]:
    """Return tierUpgradeCriteria with purchaseType in words."""
    return tuple(
        Criteria(
            c,
            program_label(c.program_id, titles) if c.program_id else "",
            strategy_name(c.purchase_type),
        )
        for c in items
    )


def retention_criteria(
    items: tuple[MembershipRetentionCriteria, ...], titles: dict[int, str]
) -> tuple[Criteria, ...]:
    """Return membershipRetentionCriteria, with the plain note where no downgrade is set up."""
    return tuple(
        Criteria(
            c,
            program_label(c.program_id, titles) if c.program_id else "",
            NO_DOWNGRADE if c.is_downgrade_strategy is False else "",
        )
        for c in items
    )


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


def projection(ctx: TabContext) -> Projection:
    """Return the projection selector: today, tomorrow, +30 days, or a number of days."""
    days = min(MAX_GAP_DAYS, max(0, ctx.options.gap_days))
    links = ctx.links
    choices = tuple(
        Choice(label, n, links.tab("upgrade", gap_days=n), n == days)
        for label, n in (("Today", 0), ("Tomorrow", 1), ("+30 days", 30))
    )
    # The form sends `days` itself; the hidden fields keep the customer and the other options.
    kept = (*links.params(), *option_params(ctx.options))
    hidden = tuple(pair for pair in kept if pair[0] != "days")
    return Projection(
        days, projection_text(days, ctx.now, ctx.tz), links.tab_path("upgrade"), hidden, choices
    )


def _state(ctx: TabContext, name: str, present: bool) -> str:
    if ctx.error(name) is not None:
        return ERROR
    if part(ctx, name) is None:
        return ABSENT
    return SHOWN if present else EMPTY


def build(ctx: TabContext) -> dict[str, Any]:
    """Return the upgrade tab's context."""
    gaps, criteria = part(ctx, "gaps"), part(ctx, "criteria")
    programs = gaps.all_programs if gaps is not None else ()
    titles = program_titles(programs)
    by_program = program_gaps(
        programs,
        gaps.upgrade_strategies if gaps else (),
        gaps.gap_to_renew if gaps else (),
        ctx.tz,
    )
    tiers = criteria.tier_upgrade_criteria if criteria else ()
    retention = criteria.membership_retention_criteria if criteria else ()
    warnings: tuple[ApiWarning, ...] = part_warnings(ctx, "gaps", GAP_WARNINGS)
    return {
        "errors": part_errors(ctx, PARTS),
        "error_templates": error_templates("upgrade"),
        "program_gaps": by_program,
        "gap_warnings": warnings,
        "warnings_in_place": tuple(warnings),
        "criteria_warnings": part_warnings(ctx, "criteria", GAP_WARNINGS),
        "tier_criteria": upgrade_criteria(tiers, titles),
        "retention_criteria": retention_criteria(retention, titles),
        "no_downgrade_note": NO_DOWNGRADE,
        "projection": projection(ctx),
        "state": {
            "gaps": _state(ctx, "gaps", bool(by_program)),
            "tier_criteria": section_state(ctx, "criteria", "tier_upgrade_criteria", tiers),
            "retention": section_state(ctx, "criteria", "membership_retention_criteria", retention),
        },
    }
