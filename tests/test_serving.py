"""Serving in production: start-up validation, the health probes and the metrics endpoint."""

from __future__ import annotations

import os
import subprocess
from http import HTTPStatus
from pathlib import Path

import pytest

from lookup import preflight

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db


def test_production_environment_problems():
    lines = preflight.environment_problems({"LOOKUP_ENV": "production", "ALLOWED_HOSTS": "x.io"})
    assert [line.split()[0] for line in lines] == ["SECRET_KEY", "LOOKUP_FERNET_KEYS", "REDIS_URL"]
    assert preflight.environment_problems({}) == []


def test_debug_with_public_host(settings):
    settings.DEBUG = True
    settings.ALLOWED_HOSTS = ["127.0.0.1", "lookup.example.com"]
    assert any(
        "DEBUG is on with a public host (lookup.example.com)" in p for p in preflight.problems()
    )
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    assert not any("DEBUG" in p for p in preflight.problems())


def test_several_workers_on_local_memory(settings, tmp_path):
    settings.REDIS_URL = ""
    settings.DATA_DIR = tmp_path
    assert any("2 workers on the local-memory cache" in p for p in preflight.problems(workers=2))


def test_second_instance_on_local_memory(tmp_path):
    assert preflight._local_cache_problems(1, tmp_path) == []
    # A second instance is another process; flock is per open file, so a second open conflicts.
    lines = preflight._local_cache_problems(1, tmp_path)
    assert len(lines) == 1 and "another instance already serves" in lines[0]
    preflight._instance_lock.close()


def test_unreachable_redis(settings, monkeypatch):
    from django.core.cache import cache

    def refused(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    monkeypatch.setattr(cache, "set", refused)
    assert (
        "REDIS_URL is unreachable: Error 111 connecting to 127.0.0.1:6379. Connection refused."
        in (preflight.problems())
    )


def test_pending_migrations(monkeypatch):
    from types import SimpleNamespace

    from django.db.migrations.executor import MigrationExecutor

    assert not any("pending migrations" in p for p in preflight.problems())
    step = (SimpleNamespace(app_label="lookup", name="0008_next"), False)
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [step])
    assert "pending migrations: lookup.0008_next; run `manage.py migrate` first." in (
        preflight.problems()
    )


def test_serve_refuses_with_one_line_per_problem(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "REDIS_URL"}}
    env.update(
        LOOKUP_ENV="production",
        LOOKUP_DATA_DIR=str(tmp_path),
        ALLOWED_HOSTS="lookup.example.com",
        LOOKUP_FERNET_KEYS="x",
        PORT="18499",
    )
    done = subprocess.run(
        ["bash", "scripts/serve.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    refusals = [line for line in done.stderr.splitlines() if line.startswith("refusing to start")]
    assert refusals == [
        "refusing to start: SECRET_KEY is not set: production needs Django's signing key.",
        "refusing to start: REDIS_URL is not set: production needs the cache every instance "
        "shares (sessions, locks, limits, breakers).",
    ]
    assert "Traceback" not in done.stderr


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": "ok"}


def test_readyz_lists_breakers(client, org):
    response = client.get("/readyz")
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "status": "ready",
        "database": "ok",
        "migrations": "current",
        "cache": "ok",
        "orgs": [{"org": "sandbox", "breaker": "closed"}],
    }


def test_readyz_cache_down(client, monkeypatch):
    from django.core.cache import cache

    def broken(*args, **kwargs):
        raise ConnectionError("down")

    monkeypatch.setattr(cache, "set", broken)
    response = client.get("/readyz")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json()["cache"] == "unreachable"


def test_metrics_needs_the_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == HTTPStatus.NOT_FOUND
    settings.METRICS_TOKEN = "s3cret"
    assert client.get("/metrics").status_code == HTTPStatus.UNAUTHORIZED
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == HTTPStatus.UNAUTHORIZED


def test_metrics_series(agent_client, org, settings):
    settings.METRICS_TOKEN = "s3cret"
    assert agent_client.get("/customers/566881933/?source=INSTORE").status_code == HTTPStatus.OK
    assert agent_client.get("/customers/566881933/?source=INSTORE").status_code == HTTPStatus.OK
    response = agent_client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret")
    assert response.status_code == HTTPStatus.OK
    text = response.content.decode()
    for series in (
        'lookup_http_requests_total{status="200",view="customer"}',
        'lookup_upstream_calls_total{org="sandbox",outcome="ok"}',
        "lookup_upstream_call_duration_seconds_bucket",
        'lookup_page_views_total{org="sandbox"}',
        'lookup_cache_parts_total{part="base",result="hit"}',
        'lookup_cache_parts_total{part="base",result="miss"}',
        'lookup_audit_writes_total{action="lookup",outcome="ok"}',
        'lookup_breaker_state{org="sandbox",state="closed"} 1.0',
        'lookup_quota_used{org="sandbox"}',
    ):
        assert series in text, series


def test_status_page(staff_client, org):
    from lookup.services import stats

    assert staff_client.get("/customers/566881933/?source=INSTORE").status_code == HTTPStatus.OK
    assert staff_client.get("/customers/566881933/?source=INSTORE").status_code == HTTPStatus.OK
    stats.record_call(org.pk, 0.4, failed=True)
    response = staff_client.get("/ops/status/")
    assert response.status_code == HTTPStatus.OK
    text = response.content.decode()
    assert 'data-org="sandbox"' in text
    assert '<td data-status="calls">2</td>' in text
    assert "50 % (1 failed)" in text
    assert "50 % (3 parts from cache, 3 fetched)" in text  # the page shows three parts
    assert "≤ 500 ms" in text
    assert "closed" in text
    assert text.count("<rect ") >= 60


def test_status_page_is_for_staff(agent_client):
    assert agent_client.get("/ops/status/").status_code == HTTPStatus.FOUND


def test_refusals_counted(agent_client, org, settings):
    from prometheus_client import REGISTRY

    def refused(kind: str) -> float:
        return REGISTRY.get_sample_value("lookup_refusals_total", {"kind": kind}) or 0.0

    settings.REFRESH_LIMIT = 0
    before = refused("refresh_limit"), refused("quota")
    agent_client.get("/customers/566881933/?source=INSTORE&refresh=1")
    org.calls_per_minute = 1
    org.save()
    agent_client.get("/customers/565261498/?source=INSTORE")
    agent_client.get("/customers/100000001/?source=INSTORE")
    assert refused("refresh_limit") == before[0] + 1
    assert refused("quota") == before[1] + 1
