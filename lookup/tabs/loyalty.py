"""The loyalty tab: points, programs, the tier timeline, expiry schedule and promotions."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from lookup.capillary.records import (
    PROMOTION_KINDS,
    ApiWarning,
    Customer,
    ExpirySchedule,
    LoyaltyProgram,
    PromotionalPoint,
    ReturnedPoints,
    SlabChange,
)
from lookup.tabs.common import (
    ABSENT,
    ERROR,
    SHOWN,
    TabContext,
    WithProgram,
    date_only,
    error_templates,
    instant,
    local_day,
    number,
    part,
    part_errors,
    part_warnings,
    program_label,
    program_titles,
    section_state,
    total,
)

PARTS = (
    "base",
    "points",
    "mlp",
    "slabHistory",
    "expirySchedules",
    "expiredPoints",
    "returnedPoints",
    "promotionalPoints",
)
# 8062 "Points details fetch failed" and 91001 "Failed to get point details".
POINTS_WARNINGS = (8062, 91001)
POINT_ROWS = (
    ("Current (redeemable)", "loyalty_points"),
    ("Lifetime earned", "lifetime_points"),
    ("Redeemed", "redeemed"),
    ("Expired", "expired"),
    ("Returned", "returned"),
    ("Adjusted", "adjusted"),
)
# Change type -> (word shown, arrow, CSS modifier); Capillary writes RENEWAL, v1.1 wrote RENEW.
CHANGE_TYPES = {
    "UPGRADE": ("UPGRADE", "↑", "up"),
    "DOWNGRADE": ("DOWNGRADE", "↓", "down"),
    "RENEWAL": ("RENEWAL", "↻", "renew"),
    "RENEW": ("RENEWAL", "↻", "renew"),
}
PROMOTION_LABELS = {
    "customer": "Customer promotions",
    "transaction": "Transaction promotions",
    "lineitem": "Line-item promotions",
}
RETURNED_KNOWN = frozenset({"points", "programId", "returnedOn"})


@dataclass(frozen=True)
class PointsPanel:
    """The points totals, where they came from, and a warning when the fetch failed."""

    rows: tuple[tuple[str, Decimal | None], ...]
    source: str  # "summary", "programs" or "" when there is nothing to show
    program_count: int = 0
    warning: ApiWarning | None = None


def points_panel(
    summary: LoyaltyProgram | None,
    programs: tuple[LoyaltyProgram, ...],
    warnings: Iterable[ApiWarning] = (),
) -> PointsPanel:
    """Return the points totals from pointsSummary, else summed over the programs."""
    warning = next(iter(warnings), None)
    if summary is not None:
        rows = tuple((label, getattr(summary, name)) for label, name in POINT_ROWS)
        return PointsPanel(rows, "summary", warning=warning)
    if programs:
        rows = tuple(
            (label, total(getattr(p, name) for p in programs)) for label, name in POINT_ROWS
        )
        return PointsPanel(rows, "programs", len(programs), warning)
    return PointsPanel((), "", warning=warning)


@dataclass(frozen=True)
class ProgramView:
    """One loyalty program with its title and next tier in words."""

    program: LoyaltyProgram
    title: str
    next_tier: str


def next_tier_text(program: LoyaltyProgram) -> str:
    """Return "Garnet (tier 3)", "top tier", or "not returned"."""
    if program.top_tier:
        return "top tier"
    if program.next_slab:
        number = program.next_slab_number
        return f"{program.next_slab} (tier {number})" if number is not None else program.next_slab
    return "not returned"


def program_views(programs: Iterable[LoyaltyProgram]) -> tuple[ProgramView, ...]:
    """Return each program with its display title and next tier."""
    return tuple(
        ProgramView(p, program_label(p.program_id, program_titles([p])), next_tier_text(p))
        for p in programs
    )


@dataclass(frozen=True)
class TimelineEntry:
    """One tier change with its type in words and an arrow."""

    change: SlabChange
    word: str
    icon: str
    kind: str


@dataclass(frozen=True)
class Lane:
    """The tier changes of one program, newest first."""

    program_id: int | None
    title: str
    entries: tuple[TimelineEntry, ...]

    @property
    def named(self) -> bool:
        """Return True when the lane's title is the program's name, not just its ID."""
        return self.program_id is not None and self.title != f"Program {self.program_id}"


def timeline_entry(change: SlabChange) -> TimelineEntry:
    """Return a tier change with its type in words."""
    code = change.type.strip().upper()
    word, icon, kind = CHANGE_TYPES.get(code, (code or "CHANGE", "•", "other"))
    return TimelineEntry(change, word, icon, kind)


def _newest_first(instant_value: float | None) -> tuple[bool, float]:
    return (instant_value is None, -(instant_value or 0.0))


def timeline(changes: Iterable[SlabChange], titles: dict[int, str]) -> tuple[Lane, ...]:
    """Return one lane per program, entries newest first, lanes by their latest change."""
    by_program: dict[int | None, list[SlabChange]] = {}
    for change in changes:
        by_program.setdefault(change.program_id, []).append(change)
    lanes = []
    for program_id, items in by_program.items():
        items.sort(key=lambda c: _newest_first(instant(c.changed_on)))
        lanes.append(
            Lane(
                program_id,
                program_label(program_id, titles),
                tuple(timeline_entry(c) for c in items),
            )
        )
    lanes.sort(
        key=lambda lane: (_newest_first(instant(lane.entries[0].change.changed_on)), lane.title)
    )
    return tuple(lanes)


@dataclass(frozen=True)
class ExpiryMonth:
    """Points due to expire in one calendar month, with the entries that make it up."""

    month: date | None
    label: str
    total: Decimal | None
    entries: tuple[WithProgram, ...]


def expiry_months(
    schedules: Iterable[ExpirySchedule], tz: str | None, titles: dict[int, str]
) -> tuple[ExpiryMonth, ...]:
    """Return the expiry schedule summed per month (viewer's zone), soonest first, undated last."""
    months: dict[date | None, list[ExpirySchedule]] = {}
    for schedule in schedules:
        day = local_day(schedule.expiry_date, tz)
        months.setdefault(day.replace(day=1) if day else None, []).append(schedule)
    result = []
    for month in sorted(months, key=lambda m: (m is None, m or date.min)):
        items = sorted(months[month], key=lambda s: instant(s.expiry_date) or 0.0)
        result.append(
            ExpiryMonth(
                month,
                f"{month:%B %Y}" if month else "No expiry date",
                total(s.points for s in items),
                tuple(
                    WithProgram(s, program_label(s.program_id, titles), date_only(s.expiry_date))
                    for s in items
                ),
            )
        )
    return tuple(result)


@dataclass(frozen=True)
class MonthBar:
    """One month of the expiry chart: its total as a share of the largest month's."""

    label: str
    total: Decimal
    percent: str  # 0..100 for <meter value>, plain digits


def expiry_chart(months: Iterable[ExpiryMonth]) -> tuple[MonthBar, ...]:
    """Return a bar per dated month with points due, scaled to the largest month."""
    dated = [m for m in months if m.month is not None and m.total]
    top = max((m.total for m in dated), default=Decimal(0))
    if top <= 0:
        return ()
    return tuple(
        MonthBar(
            f"{m.month:%b %Y}", m.total, format((m.total * 100 / top).quantize(Decimal("0.1")), "f")
        )
        for m in dated
    )


@dataclass(frozen=True)
class PromotionGroup:
    """Promotional points of one type (customer, transaction or line item)."""

    kind: str
    label: str
    total: Decimal | None
    entries: tuple[WithProgram, ...]


def promotion_groups(
    points: Iterable[PromotionalPoint], titles: dict[int, str]
) -> tuple[PromotionGroup, ...]:
    """Return the promotional points grouped by type, every type listed even when empty."""
    points = tuple(points)
    groups = []
    for kind in PROMOTION_KINDS:
        items = [p for p in points if p.kind == kind]
        groups.append(
            PromotionGroup(
                kind,
                PROMOTION_LABELS[kind],
                total(p.points for p in items),
                tuple(WithProgram(p, program_label(p.program_id, titles)) for p in items),
            )
        )
    return tuple(groups)


def _shown(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return "" if value is None else str(value)


@dataclass(frozen=True)
class ReturnedView:
    """A returned-points entry: its typed fields plus every other key Capillary sent."""

    record: ReturnedPoints
    program: str
    other: tuple[tuple[str, str], ...]


def returned_views(
    entries: Iterable[ReturnedPoints], titles: dict[int, str]
) -> tuple[ReturnedView, ...]:
    """Return returned points with their unknown keys kept as (key, text) pairs."""
    return tuple(
        ReturnedView(
            entry,
            program_label(entry.program_id, titles),
            tuple((str(k), _shown(v)) for k, v in entry.raw.items() if k not in RETURNED_KNOWN),
        )
        for entry in entries
    )


def expired_note(panel: PointsPanel, expired: Iterable[Any]) -> str:
    """Return how the expired list squares with the points summary's expired figure."""
    counted = dict(panel.rows).get("Expired")
    listed = total(e.points for e in expired) or Decimal(0)
    if not counted and not listed:
        return ""
    if counted is None:
        return ""
    if counted == listed:
        return f"These entries add up to the {number(counted)} expired points in the summary."
    if not listed:
        return f"The points summary counts {number(counted)} expired; Capillary itemised none."
    if listed < counted:
        return (
            f"These entries add up to {number(listed)} points; the summary counts "
            f"{number(counted)} expired, so {number(counted - listed)} are not itemised here."
        )
    return (
        f"These entries add up to {number(listed)} points, more than the {number(counted)} "
        "expired points the summary counts: Capillary reports the two separately."
    )


def _block(customer: Customer | None, attribute: str) -> tuple[Any, ...]:
    return getattr(customer, attribute, ()) if customer is not None else ()


def build(ctx: TabContext) -> dict[str, Any]:
    """Return the loyalty tab's context."""
    base, points, mlp = part(ctx, "base"), part(ctx, "points"), part(ctx, "mlp")
    programs = mlp.programs if mlp is not None else ()
    titles = program_titles(programs)
    warnings = part_warnings(ctx, "points", POINTS_WARNINGS) or part_warnings(
        ctx, "mlp", POINTS_WARNINGS
    )
    panel = points_panel(points.points_summary if points else None, programs, warnings)
    history = _block(part(ctx, "slabHistory"), "slab_history")
    schedules = _block(part(ctx, "expirySchedules"), "expiry_schedules")
    expired = _block(part(ctx, "expiredPoints"), "expired_points")
    returned = _block(part(ctx, "returnedPoints"), "returned_points")
    promotions = _block(part(ctx, "promotionalPoints"), "promotional_points")
    months = expiry_months(schedules, ctx.tz, titles)
    points_state = ERROR if ctx.error("points") else SHOWN if panel.source else ABSENT
    return {
        "errors": part_errors(ctx, PARTS),
        "error_templates": error_templates("loyalty"),
        "loyalty_info": base.loyalty_info if base is not None else None,
        "points_panel": panel,
        "warnings_in_place": (panel.warning,) if panel.warning else (),
        "program_views": program_views(programs),
        "lanes": timeline(history, titles),
        "expiry_months": months,
        "expiry_chart": expiry_chart(months),
        "expired_points": tuple(
            WithProgram(e, program_label(e.program_id, titles)) for e in expired
        ),
        "expired_note": expired_note(panel, expired),
        "returned_points": returned_views(returned, titles),
        "promotion_groups": promotion_groups(promotions, titles),
        "state": {
            "base": section_state(ctx, "base", "loyalty_info", base and base.loyalty_info),
            "points": points_state,
            "programs": section_state(ctx, "mlp", "programs", programs),
            "history": section_state(ctx, "slabHistory", "slab_history", history),
            "expiry": section_state(ctx, "expirySchedules", "expiry_schedules", schedules),
            "expired": section_state(ctx, "expiredPoints", "expired_points", expired),
            "returned": section_state(ctx, "returnedPoints", "returned_points", returned),
            "promotions": section_state(ctx, "promotionalPoints", "promotional_points", promotions),
        },
    }
