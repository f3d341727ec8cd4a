"""Retries, the retry budget, Retry-After, quotas and stale-if-error (the breaker: test_breaker)."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from lookup import services
from lookup.capillary import CustomerQuery
from lookup.capillary.errors import (
    CustomerNotFound,
    InvalidResponse,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from lookup.services import breaker, upstream
from lookup.services.breaker import CircuitOpen
from lookup.services.upstream import RetryBudget, should_retry
from tests.conftest import CUSTOMER as SEED
from tests.conftest import Clock, calls

OTHER = 100000001


@pytest.fixture(autouse=True)
def _forget_process_state():
    upstream.forget_budgets()
    yield
    services.wait_for_refreshes()


# -- the retry decision (pure) ------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        UpstreamUnavailable(),
        UpstreamError(upstream_status=502),
        UpstreamError(upstream_status=503),
        UpstreamError(upstream_status=504),
        UpstreamError(code=521, upstream_status=521),
        InvalidResponse(upstream_status=502, retryable=True),
    ],
)
def test_retry_safe(error):
    assert should_retry(error, 1, True, rng=lambda: 0.0) == pytest.approx(0.05)
    assert should_retry(error, 2, True, rng=lambda: 1.0) == pytest.approx(0.2)


@pytest.mark.parametrize(
    "error",
    [
        UpstreamError(upstream_status=500),
        UpstreamTimeout(),
        RateLimited(upstream_status=429, retry_after=3),
        CircuitOpen(30),
        CustomerNotFound(upstream_status=404),
        ValueError("not ours"),
    ],
)
def test_retry_unsafe(error):
    assert should_retry(error, 1, True) is None


def test_retry_bounded():
    error = UpstreamUnavailable()
    assert should_retry(error, 3, True, max_retries=2) is None
    assert should_retry(error, 1, False) is None
    assert should_retry(error, 6, True, max_retries=9, base=1, cap=4, rng=lambda: 1.0) == 4


def test_budget_window():
    fake = Clock()
    budget = RetryBudget(ratio=0.1, window=60, clock=fake)
    for _ in range(19):
        budget.record_call()
    assert budget.allows()
    budget.record_retry()
    assert not budget.allows()  # a second retry would make 2 in 19 calls
    budget.record_call()
    assert budget.allows()
    fake.advance(61)
    assert budget.counts() == (0, 0)
    assert not budget.allows()


# -- retries against the sandbox ----------------------------------------------------------------


def test_retries_within_budget(org, sandbox, settings):
    settings.RETRY_BUDGET_MIN = 2
    settings.RETRY_BASE_SECONDS = 0.01
    with pytest.raises(UpstreamError):
        services.fetch_customer(org, CustomerQuery(customer_id=900000503))
    assert calls(sandbox) == 3  # one call, two retries


def test_no_retry_without_budget(org, sandbox):
    with pytest.raises(UpstreamError):
        services.fetch_customer(org, CustomerQuery(customer_id=900000503))
    assert calls(sandbox) == 1


def test_no_retry_on_500(org, sandbox, settings):
    settings.RETRY_BUDGET_MIN = 2
    with pytest.raises(UpstreamError):
        services.fetch_customer(org, CustomerQuery(customer_id=900000500))
    assert calls(sandbox) == 1


# -- Retry-After --------------------------------------------------------------------------------


def test_retry_after_honoured(org, sandbox, clock):  # noqa: F811
    cached = CustomerQuery(customer_id=OTHER)
    services.fetch_customer(org, cached)
    sandbox.set_fault(SEED, "rate_limited", retry_after=120)
    with pytest.raises(RateLimited):
        services.fetch_customer(org, CustomerQuery(customer_id=SEED))
    before = calls(sandbox)

    with pytest.raises(RateLimited) as limited:
        services.fetch_customer(org, CustomerQuery(customer_id=SEED, embed="points"))
    assert limited.value.retry_after == 120
    clock.advance(61)  # the copy is past fresh: served, marked, not refreshed
    copy = services.fetch_customer(org, cached)
    assert copy.stale and copy.stale_reason == "Capillary is rate limiting this org"
    assert calls(sandbox) == before

    clock.advance(60)  # the wait is over
    sandbox.set_fault(SEED, None)
    assert services.fetch_customer(org, CustomerQuery(customer_id=SEED)).customer.id == SEED


def test_rate_limit_517_default_wait(org, sandbox, settings):
    settings.RATE_LIMIT_DEFAULT_SECONDS = 12
    with pytest.raises(RateLimited):
        services.fetch_customer(org, CustomerQuery(customer_id=900000517))
    with pytest.raises(RateLimited) as limited:
        services.fetch_customer(org, CustomerQuery(customer_id=SEED))
    assert limited.value.retry_after == 12
    assert calls(sandbox) == 1


# -- stale-if-error, as the agent sees it ---------------------------------------------------------


def _break(kind: str, org, sandbox, clock):  # noqa: F811
    if kind == "connection refused":
        org.base_url = "http://127.0.0.1:9"
        org.save()
    elif kind == "circuit open":
        for customer in range(10):  # the rule: failures across several customers
            breaker.record(org.pk, customer, UpstreamError(upstream_status=503), None)
    elif kind == "timeout":
        org.read_timeout, org.deadline = 0.2, 0.4
        org.save()
        sandbox.set_fault(None, "timeout", seconds=1)
    else:
        sandbox.set_fault(None, kind)


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("timeout", "Capillary timed out"),
        ("http_500", "Capillary failed (HTTP 500)"),
        ("http_503", "Capillary failed (HTTP 503)"),
        ("rate_limited", "Capillary is rate limiting this org"),
        ("connection refused", "Capillary could not be reached"),
        ("circuit open", "We paused calls to Capillary for this org"),
    ],
)
def test_stale_if_error(kind, reason, agent_client, org, sandbox, clock):  # noqa: F811
    url = f"/customers/{SEED}/?source=INSTORE"
    assert agent_client.get(url).status_code == HTTPStatus.OK
    clock.advance(120)
    _break(kind, org, sandbox, clock)
    first = agent_client.get(url)  # served at once; the background refresh fails
    assert first.status_code == HTTPStatus.OK
    assert services.wait_for_refreshes()
    page = agent_client.get(url)
    assert page.status_code == HTTPStatus.OK
    text = page.content.decode()
    assert f"{reason}; showing data from" in text
    assert "2 min ago" in text


def test_error_page_without_copy(agent_client, org, sandbox):
    sandbox.set_fault(None, "http_503")
    page = agent_client.get(f"/customers/{SEED}/?source=INSTORE")
    assert page.status_code == HTTPStatus.BAD_GATEWAY


# -- what operators see -------------------------------------------------------------------------


def test_org_quota_shared_and_served_from_cache(org, sandbox, clock):  # noqa: F811
    org.calls_per_minute = 2
    org.save()
    cached = CustomerQuery(customer_id=OTHER)
    services.fetch_customer(org, cached)  # 1 of 2
    services.fetch_customer(org, CustomerQuery(customer_id=SEED))  # 2 of 2
    before = calls(sandbox)
    with pytest.raises(RateLimited) as spent:
        services.fetch_customer(org, CustomerQuery(customer_id=SEED, embed="points"))
    assert "quota of 2" in spent.value.message and 1 <= spent.value.retry_after <= 60
    assert calls(sandbox) == before  # held back without calling
    clock.advance(61)  # past fresh, quota spent in this minute? a new minute has begun
    assert upstream.quota_used(org.pk) == 0
    services.fetch_customer(org, CustomerQuery(customer_id=SEED, embed="points"))
    assert calls(sandbox) == before + 1


def test_spent_quota_serves_the_stale_copy(org, sandbox, clock, settings):  # noqa: F811
    settings.CAPILLARY_CALLS_PER_MINUTE = 1
    cached = CustomerQuery(customer_id=OTHER)
    services.fetch_customer(org, cached)
    clock.advance(61)
    services.fetch_customer(org, CustomerQuery(customer_id=SEED))  # the new minute's one call
    copy = services.fetch_customer(org, cached)  # stale: its refresh is over quota
    services.wait_for_refreshes()
    copy = services.fetch_customer(org, cached)
    assert copy.stale and copy.stale_reason == "Capillary is rate limiting this org"


def test_ops_page_shows_breaker(client, django_user_model, org, sandbox, settings, clock):  # noqa: F811
    sandbox.set_fault(None, "http_500")
    for customer in range(10):
        with pytest.raises(UpstreamError):
            services.fetch_customer(org, CustomerQuery(customer_id=SEED + customer))
    staff = django_user_model.objects.create_user("ops", password="ops-pass-12345", is_staff=True)
    client.force_login(staff)
    page = client.get("/ops/breakers/")
    assert page.status_code == HTTPStatus.OK
    text = page.content.decode()
    assert "Sandbox org" in text and ">open</strong>: not calling Capillary for 30 s" in text
    assert "10 of 10 calls failed across 10 customers: HTTP 500" in text
    assert "(no quota)" in text

    closed = client.post(f"/ops/breakers/{org.pk}/close", follow=True)
    assert ">closed</strong>" in closed.content.decode()
    sandbox.set_fault(None, None)
    assert services.fetch_customer(org, CustomerQuery(customer_id=SEED)).customer.id == SEED


def test_ops_page_staff_only(agent_client):
    response = agent_client.get("/ops/breakers/")
    assert response.status_code == HTTPStatus.FOUND
    assert "/admin/login/" in response["Location"]


def test_hello_only_for_bench(client, settings):
    assert client.get("/bench/hello").status_code == HTTPStatus.NOT_FOUND
    settings.LOOKUP_BENCH = True
    assert client.get("/bench/hello").content == b"hello"
