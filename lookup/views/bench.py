"""The benchmark's floor: one upstream call through the org's client, nothing else.

Routed only when `LOOKUP_BENCH` is on (see lookup/urls.py), for `python -m bench`.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

from lookup import access, services
from lookup.capillary import CapillaryError, CustomerQuery, InvalidQuery


def first_paint_query(query: CustomerQuery) -> CustomerQuery:
    """Return the one call a cold customer page's first paint asks for, once combined.

    The base record's flags (fraud, NDNC and opt-in status) with the header's embeds
    (points, programs) and their gaps, in a single GET /v2/customers/{id}.
    """
    return query.replace(
        included_fraud_details=True,
        ndnc_status=True,
        optin_status=True,
        embed=frozenset({"points", "mlp"}),
        gap_to_upgrade=0,
        gap_to_renew=0,
    )


@login_required
@require_GET
def proxy(request: HttpRequest, customer_id: str) -> HttpResponse:
    """Answer Capillary's body for the customer: no cache, masking, rendering or audit.

    The same client and connection pool as the customer page (`services.client_for`), so
    the cold page's cost over this view is what the dashboard adds to the call itself.
    """
    if not settings.LOOKUP_BENCH:
        raise Http404
    asked = request.GET.get("org", "")
    org = access.resolve_org(request.user, asked or None)
    source = request.GET.get("source") or (org.default_source if org else "INSTORE")
    if org is None or not access.may_see(request.user, org, source):
        raise Http404
    try:
        query = CustomerQuery.parse(
            customer_id,
            source=source,
            account_id=request.GET.get("accountId", org.default_account_id),
        )
    except InvalidQuery as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain")
    try:
        result = services.client_for(org).get_customer(first_paint_query(query))
    except CapillaryError as exc:
        return HttpResponse(exc.message, status=exc.status, content_type="text/plain")
    return HttpResponse(result.raw_text, content_type="application/json")


urlpatterns = [
    path("bench/proxy/<str:customer_id>/", proxy, name="bench-proxy"),
]
