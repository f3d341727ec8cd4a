"""The benchmark's pieces: the one-call proxy view, the sandbox's call counter, the figures."""

from __future__ import annotations

import importlib
import json
from http import HTTPStatus

import pytest
from django.urls import clear_url_caches

from bench import figures
from lookup.sandbox.server import SandboxServer

SEED = 566881933


def _reload_urls() -> None:
    import lookup.urls

    importlib.reload(lookup.urls)
    clear_url_caches()


@pytest.fixture
def bench_on(settings):
    """Turn LOOKUP_BENCH on and route the bench views, as `python -m bench` does."""
    settings.LOOKUP_BENCH = True
    _reload_urls()
    yield
    settings.LOOKUP_BENCH = False
    _reload_urls()


def proxy_url(customer_id: int = SEED) -> str:
    return f"/bench/proxy/{customer_id}/?source=INSTORE"


def test_proxy_only_for_bench(agent_client):
    assert agent_client.get(proxy_url()).status_code == HTTPStatus.NOT_FOUND


def test_proxy_needs_sign_in(client, org, bench_on):
    response = client.get(proxy_url())
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/login/")


def test_proxy_one_call(agent_client, sandbox, bench_on):
    response = agent_client.get(proxy_url())
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert body["id"] == SEED
    assert "pointsSummary" in body
    assert sandbox.customer_calls() == 1
    assert sandbox.customer_calls(SEED) == 1
    assert sandbox.stats()["embeds"] == [["mlp", "points"]]


def test_proxy_no_cache_no_audit(agent_client, sandbox, bench_on):
    from lookup.models import AuditRecord

    agent_client.get(proxy_url())
    agent_client.get(proxy_url())
    assert sandbox.customer_calls(SEED) == 2
    assert not AuditRecord.objects.exists()


def test_proxy_upstream_error(agent_client, sandbox, bench_on):
    sandbox.set_fault(SEED, "http_500")
    response = agent_client.get(proxy_url())
    assert response.status_code >= HTTPStatus.INTERNAL_SERVER_ERROR


def test_calls_per_customer():
    server = SandboxServer()
    server.record_customer_call(1, [])
    server.record_customer_call("1", ["points"])
    server.record_customer_call(2, [])
    server.record_customer_call("abc", [])
    assert server.customer_calls() == 4
    assert server.customer_calls(1) == 2
    assert server.customer_calls("1") == 2
    assert server.customer_calls(2) == 1
    assert server.customer_calls("abc") == 1
    assert server.customer_calls(3) == 0
    server.reset()
    assert server.customer_calls() == 0
    assert server.customer_calls(1) == 0


def test_calls_over_http(sandbox):
    import requests

    from bench.servers import DEMO_BASIC

    headers = {"Authorization": DEMO_BASIC}
    for _ in range(2):
        requests.get(f"{sandbox.url}/v2/customers/{SEED}?source=INSTORE", headers=headers)
    calls = f"{sandbox.url}/__sandbox/calls"
    assert requests.get(calls, params={"customer_id": SEED}).json()["customer_calls"] == 2
    assert requests.get(calls, params={"customer_id": 1}).json()["customer_calls"] == 0
    assert requests.get(calls).json()["customer_calls"] == 2


def test_ratios():
    assert figures.miss_efficiency(40.0, 80.0) == 0.5
    assert figures.miss_efficiency(40.0, 0) is None
    assert figures.miss_efficiency_ideal(64.0, 64, 200) == 0.2
    assert figures.overhead_ms(212.34, 204.0) == 8.3


def test_calls_per():
    assert figures.calls_per([3, 3, 3, 3]) == 3
    assert figures.calls_per([1, 2]) == 1.5
    assert figures.calls_per([]) is None


def test_fault_plan():
    plan = figures.fault_plan(list(range(100, 140)))
    assert plan == {110: "http_500", 130: "malformed_json"}


def test_breaker_isolation():
    outcomes = [
        ("/a", 200, False, 1),
        ("/b", 503, False, 1),
        ("/b", 200, False, 2),  # a retry: the lookup is judged by its first answer
        ("/c", 200, True, 1),  # an error panel: not answered normally
        ("/d", 200, False, 1),
        ("/bad", 502, False, 1),  # a failing customer: not counted
    ]
    assert figures.breaker_isolation(outcomes, ["/a", "/b", "/c", "/d"]) == 0.5
    assert figures.breaker_isolation(outcomes, ["/a", "/d"]) == 1.0
    assert figures.breaker_isolation(outcomes, []) is None


def test_tab_urls():
    html = (
        '<div role="tablist">'
        '<a role="tab" href="/customers/1/tabs/profile/?source=INSTORE&amp;org=x"'
        ' hx-get="/customers/1/tabs/profile/?source=INSTORE&amp;org=x">Profile</a>'
        '<a role="tab" href="/customers/1/tabs/cards/?source=INSTORE">Cards</a>'
        '<a href="/elsewhere/">Not a tab</a></div>'
    )
    assert figures.tab_urls(html, "http://127.0.0.1:9") == [
        "http://127.0.0.1:9/customers/1/tabs/profile/?source=INSTORE&org=x",
        "http://127.0.0.1:9/customers/1/tabs/cards/?source=INSTORE",
    ]


def test_verdicts():
    rows = {
        name: verdict
        for name, _, _, verdict in figures.verdicts(
            {"hit_page_ratio": 0.3, "miss_overhead_p50_ms": 9.0, "calls_per_cold_page": 1.0}
        )
    }
    assert rows["hit_page_ratio"] == "met"
    assert rows["miss_overhead_p50_ms"] == "NOT MET"
    assert rows["calls_per_cold_page"] == "met"
    assert rows["breaker_isolation"] == "not measured"


def test_soak_figures():
    from bench import soak_report

    result = {
        "statuses": {"200": 3, "302": 1, "503": 1, "0": 1},
        "failovers": 2,
        "timings": [
            [200, 10.0, "r1", False],
            [200, 300.0, "r2", False],
            [200, 20.0, "r3", True],
            [302, 5.0, "r4", False],
            [503, 40.0, "r5", False],
            [0, 1.0, "", False],
        ],
    }
    audited = {"r1": True, "r2": False, "r3": True, "r5": None}
    got = soak_report.figures(result, audited, 2, 0, {1: 100_000, 2: 100_000}, {1: 105_000})
    assert got["requests"] == 5
    assert got["unanswered"] == 1
    assert got["page_views"] == 4
    assert got["calls_per_page_view"] == 0.5
    assert got["stale_pages"] == 1
    assert got["upstream_error_pages"] == 1
    assert got["hit_p50_ms"] == 20.0
    assert got["miss_p50_ms"] == 300.0
    assert got["memory_growth_pct"] == 5.0
    assert got["audit_missing"] == 0
