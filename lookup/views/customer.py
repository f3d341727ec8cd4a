"""The customer page."""

from __future__ import annotations

from http import HTTPStatus

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from lookup import access, services
from lookup.capillary import CapillaryError, CustomerQuery, InvalidQuery


def _bad_input(request: HttpRequest, message: str) -> HttpResponse:
    return render(
        request,
        "lookup/customer-error.html",
        {"title": "That lookup can't be made", "message": message, "status": 400},
        status=HTTPStatus.BAD_REQUEST,
    )


@login_required
@require_GET
def customer(request: HttpRequest, customer_id: str) -> HttpResponse:
    """Show a customer's header and profile, fetched from the org's Capillary."""
    org = access.resolve_org(request.user, request.GET.get("org"))
    source = request.GET.get("source") or (org.default_source if org else "INSTORE")
    try:
        query = CustomerQuery.parse(
            customer_id,
            source=source,
            account_id=request.GET.get("accountId", org.default_account_id if org else ""),
        )
    except InvalidQuery as exc:
        return _bad_input(request, exc.message)
    if org is None or not access.may_see(request.user, org, query.source):
        return render(
            request,
            "lookup/customer-error.html",
            {
                "title": "Not found",
                "message": "There is no such org, or you have no access to it.",
                "status": 404,
            },
            status=HTTPStatus.NOT_FOUND,
        )
    try:
        data = services.fetch_customer(org, query)
    except CapillaryError as exc:
        response = render(
            request,
            "lookup/customer-error.html",
            {"title": exc.title, "message": exc.message, "status": exc.status, "error": exc,
             "org": org, "query": query},
            status=exc.status,
        )
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:
            response["Retry-After"] = str(int(retry_after))
        return response
    context = {
        "org": org,
        "query": query,
        "data": data,
        "customer": data.customer,
        "tz": org.time_zone,
    }
    return render(request, "lookup/customer.html", context)
