"""`{% pii value %}`: a personal value, masked or clear as the role allows, with Copy and Reveal."""

from __future__ import annotations

from typing import Any

from django import template
from django.core import signing

from lookup import roles
from lookup.privacy import Masked, read_ref

register = template.Library()


def _ref_path(ref: str) -> list | None:
    try:
        return read_ref(ref)[3]
    except (signing.BadSignature, ValueError, TypeError):
        return None


@register.inclusion_tag("lookup/_pii.html", takes_context=True)
def pii(context: template.Context, value: Any, ref: str = "") -> dict[str, Any]:
    """Render a personal value; masked values get a Reveal control for roles that may reveal."""
    request = context.get("request")
    user = getattr(request, "user", None)
    masked = isinstance(value, Masked)
    ref = ref or (value.ref if masked else "")
    links = context.get("links")
    can_reveal = bool(
        masked and ref and user is not None and roles.may_reveal(user) and links is not None
    )
    once = context.get("revealed_once")
    if masked and once and _ref_path(value.ref) == once.get("path"):
        return {"value": once["value"], "masked": True, "revealed": True, "error": ""}
    return {
        "value": value,
        "masked": masked,
        "ref": ref if can_reveal else "",
        "reveal_url": links.reveal() if can_reveal else "",
        "reason_required": can_reveal and roles.reveal_needs_reason(user),
        "csrf_token": context.get("csrf_token"),
        # The widget's reveal answer sets these; named here so the template finds them.
        "revealed": False,
        "error": "",
    }
