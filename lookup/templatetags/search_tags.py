"""Template tags of the search box's companions on the customer page: copy buttons."""

from __future__ import annotations

from typing import Any

from django import template

from lookup.summary import summary_text

register = template.Library()


@register.inclusion_tag("lookup/_copy.html", takes_context=True)
def copy_buttons(context: dict[str, Any]) -> dict[str, Any]:
    """Render "Copy ID" and "Copy summary" for the customer in the header's context."""
    query, org = context.get("query"), context.get("org")
    return {
        "customer_id": getattr(query, "customer_id", ""),
        "summary": summary_text(
            context.get("customer"),
            context.get("header_programs") or (),
            query,
            getattr(org, "name", ""),
        )
        if query is not None
        else "",
    }
