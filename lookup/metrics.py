"""Prometheus metrics: one definition per series, and the request middleware.

Under gunicorn every worker writes its samples to files in PROMETHEUS_MULTIPROC_DIR and
`exposition` adds them up, so a scrape sees the instance, not one worker. Breaker state
and quota are read from the shared cache at scrape time, so every instance reports the same.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

REQUESTS = Counter(
    "lookup_http_requests", "Requests answered, by view (URL name) and status.", ["view", "status"]
)
REQUEST_SECONDS = Histogram(
    "lookup_http_request_duration_seconds",
    "Time to answer a request, by view.",
    ["view"],
    buckets=LATENCY_BUCKETS,
)
UPSTREAM_CALLS = Counter(
    "lookup_upstream_calls",
    "Calls to Capillary (after retries), by org and outcome (ok or the error).",
    ["org", "outcome"],
)
UPSTREAM_SECONDS = Histogram(
    "lookup_upstream_call_duration_seconds",
    "Time a call to Capillary took, retries included, by org and outcome.",
    ["org", "outcome"],
    buckets=LATENCY_BUCKETS,
)
PAGE_VIEWS = Counter(
    "lookup_page_views",
    "Customer pages, tabs and refreshes shown (audited), by org: upstream calls divided by "
    "these is the calls per page view.",
    ["org"],
)
CACHE_PARTS = Counter(
    "lookup_cache_parts",
    "Parts asked of the cache, by part kind and result: hit (fresh), revalidate (past fresh, "
    "refreshed in the background), stale (a copy served because Capillary failed), miss.",
    ["part", "result"],
)
SINGLEFLIGHT_WAITS = Counter(
    "lookup_singleflight_waits",
    "Parts that waited on another fetch instead of calling: in this process or in another.",
    ["scope"],
)
BREAKER_OPENINGS = Counter("lookup_breaker_openings", "Times an org's breaker opened.", ["org"])
REFUSALS = Counter(
    "lookup_refusals",
    "Requests refused by a limit: lookup_rate (per user), refresh_limit, quota (org's calls "
    "a minute), capillary_rate_limit (held back after Capillary's 429), login_throttle.",
    ["kind"],
)
AUDIT_WRITES = Counter(
    "lookup_audit_writes", "Audit records written, by action and outcome.", ["action", "outcome"]
)


class SharedStateCollector:
    """Breaker state and quota used per org, read from the shared cache at scrape time."""

    def collect(self):
        from django.conf import settings

        from lookup.models import Org
        from lookup.services import breaker, upstream

        state = GaugeMetricFamily(
            "lookup_breaker_state",
            "1 for the state each org's breaker is in now (closed, open, half-open).",
            labels=["org", "state"],
        )
        quota = GaugeMetricFamily(
            "lookup_quota_used", "Calls to Capillary this minute per org.", labels=["org"]
        )
        limit = GaugeMetricFamily(
            "lookup_quota_limit", "The org's calls a minute (0: no limit).", labels=["org"]
        )
        for org in Org.objects.filter(is_active=True).only("pk", "slug", "calls_per_minute"):
            current = breaker.window(org.pk).state
            for name in ("closed", "open", "half-open"):
                state.add_metric([org.slug, name], 1.0 if current == name else 0.0)
            quota.add_metric([org.slug], upstream.quota_used(org.pk))
            per_minute = org.calls_per_minute
            if per_minute is None:
                per_minute = settings.CAPILLARY_CALLS_PER_MINUTE
            limit.add_metric([org.slug], per_minute)
        yield from (state, quota, limit)


def exposition() -> tuple[bytes, str]:
    """Return the text Prometheus scrapes, and its content type."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    shared = CollectorRegistry()
    shared.register(SharedStateCollector())
    return generate_latest(registry) + generate_latest(shared), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Count every answer and its time by view name (a bounded label) and status."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if match is not None:
            view = match.view_name
        elif request.path.startswith("/static/"):
            view = "static"
        else:
            view = "unmatched"
        REQUEST_SECONDS.labels(view).observe(time.perf_counter() - started)
        REQUESTS.labels(view, str(response.status_code)).inc()
        return response
