"""Operator pages: each org's status and circuit breaker, and the benchmark's reference view."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from lookup import access
from lookup.models import Org
from lookup.services import breaker, stats, store, upstream
from lookup.templatetags.lookup_tags import age_words


def _row(org: Org) -> dict:
    limited_until = upstream.limited_until(org.pk)
    window = breaker.window(org.pk)
    at = store.now()
    since = breaker.now() - (window.last_opened_at or 0)
    return {
        "org": org,
        "window": window,
        "open_for": max(1, round(window.open_until - breaker.now()))
        if window.state == "open"
        else None,
        "last_opened": dt.datetime.fromtimestamp(window.last_opened_at, dt.UTC)
        if window.last_opened_at
        else None,
        "last_opened_ago": age_words(since) if window.last_opened_at else "",
        "limited_for": round(limited_until - at) if limited_until else None,
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
        "window_calls": settings.BREAKER_WINDOW_CALLS,
        "window_seconds": settings.BREAKER_WINDOW_SECONDS,
        "min_calls": settings.BREAKER_MIN_CALLS,
        "failure_rate": settings.BREAKER_FAILURE_RATE,
        "min_customers": settings.BREAKER_MIN_CUSTOMERS,
        "cooldown": settings.BREAKER_COOLDOWN_SECONDS,
        "ratio": settings.RETRY_BUDGET_RATIO,
        "window": settings.RETRY_BUDGET_WINDOW_SECONDS,
    }
    return render(request, "lookup/ops-breakers.html", context)


CHART_HEIGHT = 60


def _chart(per_minute: list[tuple[int, int]]) -> list[dict]:
    """Return one bar per minute (calls, and the failed share), scaled to the busiest minute."""
    top = max((calls for calls, _failed in per_minute), default=0) or 1
    bars = []
    for index, (calls, failed) in enumerate(per_minute):
        height = round(CHART_HEIGHT * calls / top)
        failed_height = round(CHART_HEIGHT * failed / top)
        bars.append(
            {
                "x": index * 5,
                "y": CHART_HEIGHT - height,
                "height": height,
                "failed_y": CHART_HEIGHT - failed_height,
                "failed_height": failed_height,
                "title": f"{60 - index} min ago: {calls} calls, {failed} failed",
            }
        )
    return bars


@staff_member_required
@require_GET
def status(request: HttpRequest) -> HttpResponse:
    """Show each org the viewer may see: its last hour of Capillary calls, cache and breaker."""
    rows = []
    for org in sorted(access.orgs_for(request.user), key=lambda org: org.name):
        hour = stats.last_hour(org.pk)
        rows.append({**_row(org), "hour": hour, "bars": _chart(hour.per_minute)})
    context = {"rows": rows, "chart_height": CHART_HEIGHT, "chart_width": 60 * 5}
    return render(request, "lookup/ops-status.html", context)


@staff_member_required
@require_POST
def close_breaker(request: HttpRequest, org_id: int) -> HttpResponse:
    """Close an org's breaker, clear its window and forget its rate limit (Capillary is back)."""
    upstream.reset(org_id)
    return redirect("ops-breakers")


@require_GET
def hello(request: HttpRequest) -> HttpResponse:
    """Answer a short text: the benchmark's reference for a plain Django view."""
    if not settings.LOOKUP_BENCH:
        raise Http404
    return HttpResponse("hello", content_type="text/plain")


urlpatterns = [
    path("ops/status/", status, name="ops-status"),
    path("ops/breakers/", breakers, name="ops-breakers"),
    path("ops/breakers/<whole:org_id>/close", close_breaker, name="ops-breaker-close"),
    path("bench/hello", hello, name="bench-hello"),
]
