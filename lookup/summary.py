"""The plain-text customer summary an agent pastes into a ticket ("Copy summary")."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from lookup.capillary import records


def _number(value: Decimal | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"


def summary_text(
    customer: records.Customer | None,
    programs: Iterable[records.LoyaltyProgram],
    query: Any,
    org_name: str,
) -> str:
    """Return a short summary: name, ID, source, tier and points per program, the gap to
    the next tier, card status. Values are as the viewer sees them (masked or not)."""
    name = customer.display_name if customer is not None else ""
    lines = [
        f"Customer: {name or '(no name on record)'}",
        f"Customer ID: {query.customer_id} · source {query.source}"
        + (f" · account {query.account_id}" if query.account_id else "")
        + f" · {org_name}",
    ]
    for program in programs:
        title = program.title or "Loyalty"
        line = (
            f"{title}: tier {program.current_slab or '-'}, {_number(program.loyalty_points)} points"
        )
        gaps = [g for g in program.upgrade_strategies if g.gap_to_upgrade is not None]
        if program.next_slab and gaps:
            gap = gaps[0]
            line += (
                f"; {_number(gap.gap_to_upgrade)} {gap.based_on.lower() or 'points'}"
                f" to {program.next_slab}"
            )
        lines.append(line)
    cards = customer.cards if customer is not None else ()
    if cards:
        states = [
            f"{card.card_number or '-'} {card.status.label or card.status.status}"
            if card.status is not None
            else f"{card.card_number or '-'}"
            for card in cards[:5]
        ]
        more = f" (+{len(cards) - 5} more)" if len(cards) > 5 else ""
        lines.append("Cards: " + ", ".join(states) + more)
    return "\n".join(lines)
