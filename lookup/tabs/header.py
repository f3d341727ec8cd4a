"""The header: who the customer is and where they stand, from the parts the first paint fetches."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from lookup.capillary.records import unique_warnings
from lookup.tabs.common import TabContext, part
from lookup.tabs.loyalty import POINTS_WARNINGS
from lookup.tabs.parts import HEADER_PARTS, PART_LABELS

# Fraud statuses that put a banner on every tab.
FLAGGED = frozenset({"MARKED", "CONFIRMED", "RECONFIRMED"})
PARTS = HEADER_PARTS


def build(ctx: TabContext) -> dict[str, Any]:
    """Return the header's context: tiers, points balance, fraud, NDNC and opt-in status."""
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
        warning
        for name in ("base", "points", "mlp")
        for warning in getattr(ctx.data(name), "warnings", ())
    )
    about_points = [w for w in said if w.code in POINTS_WARNINGS]
    return {
        "header_programs": programs,
        "header_balance": balance,
        "header_balance_from": balance_from,
        "header_points_warnings": about_points,
        "header_warnings": [w for w in said if w.code not in POINTS_WARNINGS],
        "header_errors": [
            (PART_LABELS[name], ctx.error(name)) for name in ("points", "mlp") if ctx.error(name)
        ],
        "fraud": fraud,
        "fraud_status": status,
        "fraud_flagged": status in FLAGGED,
        "base_data": ctx.data("base"),
    }
