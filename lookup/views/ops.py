"""Operator pages: the circuit breaker of each org, and the benchmark's reference view."""

from __future__ import annotations

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from lookup.models import Org
from lookup.services import breaker, upstream


def _row(org: Org) -> dict:
    paused = breaker.blocked(org.pk)
    limited = upstream.blocked(org.pk) if paused is None else None
    return {
        "org": org,
        "breaker": "open" if paused else "closed",
        "failures": 0,
        "open_for": paused.retry_after if paused else None,
        "limited_for": limited.retry_after if limited else None,
        "probing": False,
        "budget": upstream.budget_for(org.pk).counts(),
        "quota_used": upstream.quota_used(org.pk),
        "quota": org.calls_per_minute
        if org.calls_per_minute is not None
        else settings.CAPILLARY_CALLS_PER_MINUTE,
    }


@staff_member_required
@require_GET
def breakers(request: HttpRequest) -> HttpResponse:
    """Show, for every org, whether the dashboard is calling Capillary and why not."""
    rows = [_row(org) for org in Org.objects.order_by("name")]
    context = {
        "rows": rows,
        "threshold": settings.BREAKER_FAILURES,
        "cooldown": settings.BREAKER_COOLDOWN_SECONDS,
        "ratio": settings.RETRY_BUDGET_RATIO,
        "window": settings.RETRY_BUDGET_WINDOW_SECONDS,
    }
    return render(request, "lookup/ops-breakers.html", context)


@staff_member_required
@require_POST
def close_breaker(request: HttpRequest, org_id: int) -> HttpResponse:
    """Close an org's breaker and forget its rate limit (after Capillary is known to be back)."""
    upstream.reset(org_id)
    return redirect("ops-breakers")


@require_GET
def hello(request: HttpRequest) -> HttpResponse:
    """Answer a short text: the benchmark's reference for a plain Django view."""
    if not settings.LOOKUP_BENCH:
        raise Http404
    return HttpResponse("hello", content_type="text/plain")


urlpatterns = [
    path("ops/breakers/", breakers, name="ops-breakers"),
    path("ops/breakers/<whole:org_id>/close", close_breaker, name="ops-breaker-close"),
    path("bench/hello", hello, name="bench-hello"),
]
