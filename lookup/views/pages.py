"""Sign-in-free and general pages: health, and the customer page's URL."""

from __future__ import annotations

from urllib.parse import urlencode

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when the database answers; no sign-in needed."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - the health answer is the point
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok"})


def customer_url(query, org_slug: str, *, several_orgs: bool) -> str:
    """Return the customer page's URL: the customer ID, source and account, and the org."""
    params = {"source": query.source}
    if query.account_id:
        params["accountId"] = query.account_id
    if several_orgs:
        params["org"] = org_slug
    return reverse("customer", args=[query.customer_id]) + "?" + urlencode(params)
