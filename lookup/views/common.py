"""What the customer page, its tabs and its images share: input, access, parts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from lookup import access, privacy, services, tabs, viewer
from lookup.capillary import CapillaryError, CustomerQuery, InvalidQuery
from lookup.models import Org

# Parts remembered per customer in the session (for the raw tab), most recent customers only.


@dataclass(frozen=True)
class Lookup:
    """A checked request for one customer: org, query, options and what the URL asked."""

    org: Org
    query: CustomerQuery
    options: tabs.PageOptions
    org_param: str
    tz: str
    refresh_asked: bool


def error_page(
    request: HttpRequest, title: str, message: str, status: int, **extra: Any
) -> HttpResponse:
    """Render the customer error page with this status."""
    context = {"title": title, "message": message, "status": status, **extra}
    return render(request, "lookup/customer-error.html", context, status=status)


def bad_input(request: HttpRequest, message: str) -> HttpResponse:
    """Answer 400 with a message saying what to fix."""
    return error_page(request, "That lookup can't be made", message, HTTPStatus.BAD_REQUEST)


def upstream_error_page(request: HttpRequest, exc: CapillaryError, **extra: Any) -> HttpResponse:
    """Render a Capillary failure with its own status (and Retry-After when given)."""
    response = error_page(request, exc.title, exc.message, exc.status, error=exc, **extra)
    retry_after = getattr(exc, "retry_after", None)
    if retry_after:
        response["Retry-After"] = str(int(retry_after))
    return response


def viewer_time_zone(user: Any, org: Org) -> str:
    """Return the viewer's chosen time zone, else the org's."""
    return viewer.facts(user)["tz"] or org.time_zone


def resolve(request: HttpRequest, customer_id: str) -> Lookup | HttpResponse:
    """Check the customer, source, options and org access; return a Lookup or the error page."""
    org_param = request.GET.get("org", "")
    org = access.resolve_org(request.user, org_param or None)
    source = request.GET.get("source") or (org.default_source if org else "INSTORE")
    try:
        query = CustomerQuery.parse(
            customer_id,
            source=source,
            account_id=request.GET.get("accountId", org.default_account_id if org else ""),
        )
    except InvalidQuery as exc:
        return bad_input(request, exc.message)
    try:
        options = tabs.parse_options(request.GET)
    except tabs.BadOption as exc:
        return bad_input(request, exc.message)
    refresh = request.GET.get("refresh", "")
    if refresh not in ("", "0", "1"):
        return bad_input(request, "Refresh must be 1 or 0.")
    if org is None or not access.may_see(request.user, org, query.source):
        return error_page(
            request,
            "Not found",
            "There is no such org, or you have no access to it.",
            HTTPStatus.NOT_FOUND,
        )
    tz = viewer_time_zone(request.user, org)
    return Lookup(org, query, options, org_param, tz, refresh == "1")


def fetch_parts(
    request: HttpRequest, lookup: Lookup, names: Iterable[str], *, refresh: bool = False
) -> dict[str, services.CustomerData | CapillaryError]:
    """Fetch the named parts in one concurrent call; return them as this viewer may see them."""
    queries = tabs.part_queries(lookup.query, names, lookup.options)
    if not queries:
        return {}
    results = services.fetch_many(lookup.org, queries.values(), refresh=refresh)
    parts = {name: results[query] for name, query in queries.items()}
    return privacy.prepare_parts(request, parts)


def cached_part_names(lookup: Lookup) -> list[str]:
    """Return the parts of this customer (with the page's options) the cache holds now."""
    queries = tabs.part_queries(lookup.query, tabs.PART_LABELS, lookup.options)
    held = services.in_cache(lookup.org, queries.values())
    return [name for name, query in queries.items() if query in held]
