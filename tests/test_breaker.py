"""The circuit breaker per org: the failure-rate window, distinct customers, half-open probe."""

from __future__ import annotations

import re
from http import HTTPStatus

import pytest

from lookup import services
from lookup.capillary import CustomerQuery
from lookup.capillary.errors import (
    AuthenticationFailed,
    BadRequest,
    CustomerDeleted,
    CustomerMerged,
    CustomerNotFound,
    InvalidResponse,
    NotPermitted,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from lookup.sandbox.faults import FAULT_IDS
from lookup.services import breaker, upstream
from lookup.services.breaker import CircuitOpen, counts_as_failure
from tests.conftest import CUSTOMER as SEED
from tests.conftest import calls
from tests.test_tabs import ops_client, tab  # noqa: F401 - fixture

ORG = 7
DOWN = UpstreamError(upstream_status=503)


@pytest.fixture(autouse=True)
def _forget_process_state():
    upstream.forget_budgets()
    yield
    services.wait_for_refreshes()


def fail(customers: list[int], error: BaseException = DOWN, org_id: int = ORG) -> None:
    for customer in customers:
        breaker.record(org_id, customer, error, None)


def succeed(count: int, org_id: int = ORG) -> None:
    for customer in range(count):
        breaker.record(org_id, 1000 + customer, None, None)


def trip(org_id: int = ORG) -> None:
    """Open the org's breaker by the rule: 10 failed calls across 5 customers."""
    fail([1, 2, 3, 4, 5] * 2, org_id=org_id)
    assert breaker.window(org_id).state == "open"


# -- what counts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        UpstreamUnavailable(),
        UpstreamTimeout(),
        UpstreamError(upstream_status=500),
        UpstreamError(upstream_status=503),
        UpstreamError(code=521, upstream_status=521),
        UpstreamError(code=521, upstream_status=200),
        InvalidResponse(upstream_status=502, retryable=True, detail="HTML or text error page"),
    ],
)
def test_counts(error):
    assert counts_as_failure(error)


@pytest.mark.parametrize(
    "error",
    [
        None,
        InvalidResponse(upstream_status=200, detail="body is not JSON"),
        InvalidResponse(detail="body cut short", retryable=True),
        InvalidResponse(detail="body larger than the limit"),
        InvalidResponse(upstream_status=302, detail="unexpected redirect 302"),
        CustomerNotFound(upstream_status=404),
        CustomerDeleted(upstream_status=400),
        CustomerMerged(upstream_status=400),
        BadRequest(upstream_status=400),
        NotPermitted(upstream_status=403),
        AuthenticationFailed(upstream_status=401),
        UpstreamError(code=461, upstream_status=461),
        RateLimited(upstream_status=429, retry_after=3),
        RateLimited(code=517, upstream_status=400),
        CircuitOpen(30),
        ValueError("not Capillary"),
    ],
)
def test_does_not_count(error):
    assert not counts_as_failure(error)


# -- the rule -----------------------------------------------------------------------------------


def test_needs_minimum_calls(settings):
    fail([1, 2, 3, 4, 5, 6, 7, 8, 9])  # 9 of 9 failed, 9 customers: too few calls
    assert breaker.window(ORG).state == "closed"
    fail([10])
    window = breaker.window(ORG)
    assert (window.state, window.calls, window.failures, window.customers) == ("open", 10, 10, 10)


def test_rate_below_threshold_stays_closed():
    succeed(11)
    fail([1, 2, 3, 4, 5, 6, 7, 8, 9])  # 9 of 20
    assert breaker.window(ORG).state == "closed"
    fail([10])  # 10 of 20: the oldest success left the window
    window = breaker.window(ORG)
    assert (window.state, window.calls, window.failures) == ("open", 20, 10)
    assert window.last_reason == "10 of 20 calls failed across 10 customers: HTTP 503"


def test_window_is_the_last_calls():
    fail([1, 2, 3])
    succeed(20)  # the failures drop out of a 20-call window
    window = breaker.window(ORG)
    assert (window.calls, window.failures, window.customers) == (20, 0, 0)


def test_window_forgets_old_calls(clock):  # noqa: F811
    fail([1, 2, 3, 4, 5, 6, 7, 8])
    clock.advance(61)
    fail([9, 10])  # 10 failures, but 8 of them are older than the window
    window = breaker.window(ORG)
    assert (window.state, window.calls) == ("closed", 2)


def test_one_customer_never_opens_it():
    fail([42] * 50)
    window = breaker.window(ORG)
    assert (window.state, window.calls, window.failures, window.customers) == (
        "closed",
        20,
        20,
        1,
    )
    assert breaker.blocked(ORG) is None
    assert breaker.before_call(ORG) is None


def test_two_customers_do_not_open_it_three_do():
    fail([41, 42] * 10)
    assert breaker.window(ORG).state == "closed"
    fail([43])
    window = breaker.window(ORG)
    assert (window.state, window.customers) == ("open", 3)
    assert window.last_reason == "20 of 20 calls failed across 3 customers: HTTP 503"


def test_settings_shape_the_rule(settings):
    settings.BREAKER_WINDOW_CALLS = 4
    settings.BREAKER_MIN_CALLS = 4
    settings.BREAKER_FAILURE_RATE = 0.75
    settings.BREAKER_MIN_CUSTOMERS = 2
    succeed(1)
    fail([1, 1])
    assert breaker.window(ORG).state == "closed"
    fail([2])  # 3 of 4, 2 customers
    assert breaker.window(ORG).state == "open"


def test_answers_keep_it_closed():
    for customer in range(30):
        breaker.record(ORG, customer, CustomerNotFound(upstream_status=404), None)
        breaker.record(ORG, customer, InvalidResponse(upstream_status=200), None)
    window = breaker.window(ORG)
    assert (window.state, window.calls, window.failures) == ("closed", 20, 0)


def test_reason_names_the_failures():
    fail([1, 2, 3, 4], UpstreamTimeout())
    fail([5, 6, 7, 8, 9, 10], DOWN)
    assert breaker.window(ORG).last_reason == (
        "10 of 10 calls failed across 10 customers: HTTP 503, timeout"
    )


def test_orgs_apart():
    trip(ORG)
    assert breaker.window(ORG + 1).state == "closed"
    assert breaker.before_call(ORG + 1) is None


# -- open, half-open, closed --------------------------------------------------------------------


def test_open_refuses_then_probes(clock, settings):  # noqa: F811
    settings.BREAKER_COOLDOWN_SECONDS = 30
    trip()
    with pytest.raises(CircuitOpen) as refused:
        breaker.before_call(ORG)
    assert refused.value.status == HTTPStatus.SERVICE_UNAVAILABLE
    assert refused.value.retry_after == 30
    assert refused.value.ours
    assert refused.value.message == (
        "We stopped calling Capillary for this org for 30 s after repeated failures."
    )
    clock.advance(6)
    assert breaker.blocked(ORG).retry_after == 24

    clock.advance(25)
    assert breaker.window(ORG).state == "half-open"
    assert breaker.blocked(ORG) is None  # the next call would be the probe
    probe = breaker.before_call(ORG)
    assert probe is not None
    assert breaker.window(ORG).probing
    for _ in range(3):  # exactly one probe: everyone else waits for its answer
        with pytest.raises(CircuitOpen):
            breaker.before_call(ORG)
    assert isinstance(breaker.blocked(ORG), CircuitOpen)

    breaker.record(ORG, 1, None, probe)
    window = breaker.window(ORG)
    assert (window.state, window.calls, window.failures, window.probing) == (
        "closed",
        0,
        0,
        False,
    )
    assert window.last_reason.startswith("10 of 10 calls failed")
    assert breaker.before_call(ORG) is None


def test_failed_probe_reopens(clock, settings):  # noqa: F811
    settings.BREAKER_COOLDOWN_SECONDS = 30
    trip()
    clock.advance(31)
    probe = breaker.before_call(ORG)
    breaker.record(ORG, 1, UpstreamTimeout(), probe)
    window = breaker.window(ORG)
    assert window.state == "open"
    assert window.open_until == pytest.approx(clock() + 30)
    assert window.last_reason == "the probe call failed: timeout"
    clock.advance(31)
    assert breaker.before_call(ORG) is not None  # the next probe


def test_probe_answer_closes_it(clock, settings):  # noqa: F811
    trip()
    clock.advance(settings.BREAKER_COOLDOWN_SECONDS + 1)
    probe = breaker.before_call(ORG)
    breaker.record(ORG, 1, CustomerNotFound(upstream_status=404), probe)  # Capillary answered
    assert breaker.window(ORG).state == "closed"


def test_unused_probe_goes_back(clock, settings):  # noqa: F811
    trip()
    clock.advance(settings.BREAKER_COOLDOWN_SECONDS + 1)
    probe = breaker.before_call(ORG)
    breaker.record(ORG, 1, KeyboardInterrupt(), probe)  # no answer at all: no outcome
    window = breaker.window(ORG)
    assert (window.state, window.calls, window.probing) == ("half-open", 10, False)
    assert breaker.before_call(ORG) is not None


def test_probe_after_reset_is_an_ordinary_call(clock, settings):  # noqa: F811
    trip()
    clock.advance(settings.BREAKER_COOLDOWN_SECONDS + 1)
    probe = breaker.before_call(ORG)
    breaker.reset(ORG)  # an operator closed it while the probe was out
    breaker.record(ORG, 1, DOWN, probe)
    window = breaker.window(ORG)
    assert (window.state, window.calls, window.failures, window.probing) == (
        "closed",
        1,
        1,
        False,
    )


def test_late_failures_while_open_change_nothing(clock):  # noqa: F811
    trip()
    until = breaker.window(ORG).open_until
    clock.advance(5)
    fail([6, 7, 8])  # calls that started before it opened
    assert breaker.window(ORG).open_until == until


def test_reset_closes_and_clears():
    trip()
    breaker.reset(ORG)
    window = breaker.window(ORG)
    assert (window.state, window.calls, window.failures) == ("closed", 0, 0)
    assert window.last_opened_at is not None  # the ops page still says when it last opened
    fail([1, 2, 3, 4, 5, 6, 7, 8, 9])
    assert breaker.window(ORG).state == "closed"


# -- end to end: one outcome per call, against the sandbox --------------------------------------


def test_one_outcome_per_call(org, sandbox, settings):
    settings.RETRY_BUDGET_MIN = 2
    settings.RETRY_BASE_SECONDS = 0.01
    with pytest.raises(UpstreamError):
        services.fetch_customer(org, CustomerQuery(customer_id=FAULT_IDS["http_503"]))
    assert calls(sandbox) == 3  # one call and its two retries
    window = breaker.window(org.pk)
    assert (window.calls, window.failures, window.customers) == (1, 1, 1)
    services.fetch_customer(org, CustomerQuery(customer_id=SEED))
    assert (breaker.window(org.pk).calls, breaker.window(org.pk).failures) == (2, 1)


@pytest.mark.parametrize("fault", ["malformed_json", "not_found", "pii_deleted", "http_461"])
def test_answers_are_successes(fault, org, sandbox):
    with pytest.raises(Exception):  # noqa: B017 - each fault raises its own error
        services.fetch_customer(org, CustomerQuery(customer_id=FAULT_IDS[fault]))
    window = breaker.window(org.pk)
    assert (window.calls, window.failures) == (1, 0)


@pytest.mark.parametrize("fault", ["http_500", "http_503", "http_521", "html_error"])
def test_failures_count(fault, org, sandbox):
    with pytest.raises(UpstreamError):
        services.fetch_customer(org, CustomerQuery(customer_id=FAULT_IDS[fault]))
    assert breaker.window(org.pk).failures == 1


def test_connection_refused_counts(org):
    org.base_url = "http://127.0.0.1:9"  # discard port: nothing listens
    org.save()
    with pytest.raises(UpstreamUnavailable):
        services.fetch_customer(org, CustomerQuery(customer_id=SEED))
    assert breaker.window(org.pk).failures == 1


def test_timeout_counts(org, sandbox):
    org.read_timeout, org.deadline = 0.2, 0.4
    org.save()
    sandbox.set_fault(None, "timeout", seconds=1)
    with pytest.raises(UpstreamTimeout):
        services.fetch_customer(org, CustomerQuery(customer_id=SEED))
    assert breaker.window(org.pk).failures == 1


def test_one_customer_failing_keeps_others_served(org, sandbox):
    for _ in range(30):
        with pytest.raises(UpstreamError):
            services.fetch_customer(org, CustomerQuery(customer_id=FAULT_IDS["http_521"]))
    assert breaker.window(org.pk).state == "closed"
    assert services.fetch_customer(org, CustomerQuery(customer_id=SEED)).customer.id == SEED


def test_many_customers_failing_open_it(org, sandbox, clock, settings):  # noqa: F811
    settings.BREAKER_COOLDOWN_SECONDS = 30
    sandbox.set_fault(None, "http_500")
    for customer in range(10):
        with pytest.raises(UpstreamError):
            services.fetch_customer(org, CustomerQuery(customer_id=SEED + customer))
    assert breaker.window(org.pk).state == "open"
    before = calls(sandbox)
    with pytest.raises(CircuitOpen):
        services.fetch_customer(org, CustomerQuery(customer_id=OTHER_SEED))
    assert calls(sandbox) == before  # refused without calling

    clock.advance(31)
    with pytest.raises(UpstreamError):  # the probe fails: open again
        services.fetch_customer(org, CustomerQuery(customer_id=OTHER_SEED))
    assert calls(sandbox) == before + 1
    assert breaker.window(org.pk).state == "open"

    clock.advance(31)
    sandbox.set_fault(None, None)
    assert services.fetch_customer(org, CustomerQuery(customer_id=OTHER_SEED)).customer.id
    assert breaker.window(org.pk).state == "closed"


OTHER_SEED = 100000001


def test_quota_spent_gives_the_probe_back(org, sandbox, clock, settings):  # noqa: F811
    trip(org.pk)
    clock.advance(settings.BREAKER_COOLDOWN_SECONDS + 1)
    org.calls_per_minute = 1
    org.save()
    upstream.take_quota(org.pk, 1)
    with pytest.raises(RateLimited):
        services.fetch_customer(org, CustomerQuery(customer_id=SEED))
    window = breaker.window(org.pk)
    assert (window.state, window.probing) == ("half-open", False)


# -- what people see ----------------------------------------------------------------------------


def test_error_page_names_our_pause(agent_client, org, sandbox, clock, settings):  # noqa: F811
    settings.BREAKER_COOLDOWN_SECONDS = 30
    trip(org.pk)
    clock.advance(6)
    url = f"/customers/{SEED}/?source=INSTORE"
    page = agent_client.get(url)
    assert page.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert page["Retry-After"] == "24"
    text = page.content.decode()
    assert "Paused calls to Capillary" in text
    assert "We stopped calling Capillary for this org for 24 s after repeated failures." in text
    assert "Capillary asks us" not in text
    assert re.search(r'<span data-countdown="24">24</span> s', text)
    assert f'<a class="button retry" href="{url.replace("&", "&amp;")}">Retry</a>' in text
    assert "<script>" not in text and "style=" not in text
    assert calls(sandbox) == 0


def test_countdown_script_is_static():
    with open("static/lookup/app.js", encoding="utf-8") as js:
        assert "[data-countdown]" in js.read()


def test_ops_page_shows_window(client, django_user_model, org, sandbox, clock):  # noqa: F811
    for customer in [1, 2, 3, 4]:
        breaker.record(org.pk, customer, DOWN, None)
    succeed(2, org.pk)
    staff = django_user_model.objects.create_user("ops", password="ops-pass-12345", is_staff=True)
    client.force_login(staff)
    text = client.get("/ops/breakers/").content.decode()
    assert '<td data-window="calls">6</td>' in text
    assert '<td data-window="failures">4</td>' in text
    assert '<td data-window="customers">4</td>' in text
    assert ">closed</strong>" in text and ">never</td>" in text

    fail([5, 6, 7, 8], org_id=org.pk)
    clock.advance(90)
    text = client.get("/ops/breakers/").content.decode()
    assert ">open</strong>" not in text  # 90 s later the 30 s pause is over
    assert ">half-open</strong>" in text
    assert "(1 min ago): 8 of 10 calls failed across 8 customers: HTTP 503" in text

    closed = client.post(f"/ops/breakers/{org.pk}/close", follow=True).content.decode()
    assert ">closed</strong>" in closed and '<td data-window="calls">0</td>' in closed
    assert "8 of 10 calls failed" in closed  # when and why it last opened stays


def test_tab_error_names_our_pause(ops_client, org, sandbox, clock, settings):  # noqa: F811
    settings.BREAKER_COOLDOWN_SECONDS = 30
    tab(ops_client, SEED, "profile")  # the base part is cached
    trip(org.pk)
    response = tab(ops_client, SEED, "identifiers")  # its subscriptions part is not
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "We stopped calling Capillary for this org for 30 s" in html
    assert '<span data-countdown="30">30</span> s' in html
    assert "Capillary asks us" not in html and "Retry" in html
