"""The audit trail: who looked at which customer, when, and what came of it."""

from __future__ import annotations

from django.http import HttpRequest


def record(
    request: HttpRequest,
    action: str,
    *,
    org=None,
    customer_id: int | None = None,
    source: str = "",
    outcome: str = "ok",
    cache_hit: bool | None = None,
) -> None:
    """Write one audit record (actions: lookup, tab, refresh, reveal, raw, export, denied)."""
