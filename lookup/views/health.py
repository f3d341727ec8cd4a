"""Sign-in-free probes for load balancers and Prometheus: liveness, readiness, metrics."""

from __future__ import annotations

import hmac
from http import HTTPStatus

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from lookup import metrics
from lookup.models import Org
from lookup.services import breaker

# Once this process has seen its migrations applied they stay applied (a newer release
# migrates forward, never back), so /readyz stops loading the migration graph.
_migrations_current = False


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 while the process can answer at all."""
    return JsonResponse({"status": "ok"})


def _migrations_ok() -> bool:
    global _migrations_current
    if not _migrations_current:
        from django.db.migrations.executor import MigrationExecutor

        executor = MigrationExecutor(connection)
        _migrations_current = not executor.migration_plan(executor.loader.graph.leaf_nodes())
    return _migrations_current


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when the database, the cache and the migrations are ready; 503 when not.

    Each org's breaker is listed (by slug) so an operator sees which Capillary is paused;
    an open breaker does not make the instance unready, since every instance shares it.
    """
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
        checks["migrations"] = "current" if _migrations_ok() else "pending"
    except Exception:  # noqa: BLE001 - the probe's answer is the point
        checks["database"] = "unreachable"
    try:
        cache.set("readyz", "ok", timeout=10)
        checks["cache"] = "ok" if cache.get("readyz") == "ok" else "unreadable"
    except Exception:  # noqa: BLE001
        checks["cache"] = "unreachable"
    ready = checks.get("database") == "ok" and checks.get("migrations") == "current"
    ready = ready and checks["cache"] == "ok"
    orgs = []
    if checks["database"] == "ok" and checks["cache"] == "ok":
        for slug, pk in (
            Org.objects.filter(is_active=True).order_by("slug").values_list("slug", "pk")
        ):
            orgs.append({"org": slug, "breaker": breaker.window(pk).state})
    body = {"status": "ready" if ready else "not ready", **checks, "orgs": orgs}
    return JsonResponse(body, status=HTTPStatus.OK if ready else HTTPStatus.SERVICE_UNAVAILABLE)


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Serve Prometheus metrics to a bearer of METRICS_TOKEN (404 when none is configured)."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        response = HttpResponse("A bearer token is required.\n", status=HTTPStatus.UNAUTHORIZED)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body, content_type = metrics.exposition()
    return HttpResponse(body, content_type=content_type)
