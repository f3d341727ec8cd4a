"""What the customer page, its tabs and its images share: error pages and the parts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest, HttpResponse

from lookup import access, privacy, roles, services, tabs
from lookup.access import Lookup, bad_input, error_page
from lookup.activity import panels
from lookup.capillary import CapillaryError
from lookup.capillary import activity as q

__all__ = [
    "bad_input",
    "cached_activity",
    "may_see_raw_activity",
    "cached_part_names",
    "error_page",
    "fetch_parts",
    "upstream_error_page",
]


def upstream_error_page(request: HttpRequest, exc: CapillaryError, **extra: Any) -> HttpResponse:
    """Render a Capillary failure with its own status (and Retry-After when given)."""
    response = access.error_page(request, exc.title, exc.message, exc.status, error=exc, **extra)
    retry_after = getattr(exc, "retry_after", None)
    if retry_after:
        response["Retry-After"] = str(int(retry_after))
    return response


def fetch_parts(
    request: HttpRequest, lookup: Lookup, names: Iterable[str], *, refresh: bool = False
) -> dict[str, services.CustomerData | CapillaryError]:
    """Fetch the named parts (in one upstream call for those not cached), as this viewer
    may see them."""
    queries = tabs.part_queries(lookup.query, names, lookup.options)
    if not queries:
        return {}
    parts = services.fetch(lookup.org, queries, refresh=refresh)
    return privacy.prepare_parts(request.user, lookup.org, parts)


def cached_part_names(lookup: Lookup) -> list[str]:
    """Return the parts of this customer (with the page's options) the cache holds now."""
    queries = tabs.part_queries(lookup.query, tabs.PART_LABELS, lookup.options)
    held = services.in_cache(lookup.org, queries.values())
    return [name for name, query in queries.items() if query in held]


def may_see_raw_activity(request: HttpRequest, lookup: Lookup) -> bool:
    """Return whether this viewer may see Activity answers as Capillary sent them.

    That takes raw rights, personal data in clear (the masking of personal data knows the
    record's JSON, not these answers) and every store (they list every store's bills).
    """
    user = request.user
    return (
        roles.may_see_raw(user)
        and roles.sees_pii(user)
        and access.allowed_stores(user, lookup.org) is None
    )


def cached_activity(
    request: HttpRequest, lookup: Lookup
) -> dict[str, services.CustomerData | None]:
    """Return the Activity tab's answers for this customer that the cache holds now (None:
    not fetched), for a viewer who may see them raw. Reads the cache only, never Capillary.

    Those are the panels' queries as the tab first opens them, and the points transfers.
    """
    if not may_see_raw_activity(request, lookup):
        return {}
    customer_id, source = lookup.query.customer_id, lookup.query.source
    queries = panels.panel_queries(customer_id, source)
    queries = {
        "transactions": queries["transactions"],
        "coupons": queries["coupons"],
        "ledger": queries["ledger"],
        "transfers": q.transfers(customer_id, source),
        "goodwill": queries["goodwill"],
    }
    return services.cached(lookup.org, queries)
