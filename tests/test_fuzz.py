"""Property-based fuzzing of every query parameter and form field: never a 500, no wasted call."""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lookup import roles
from tests.test_access import make_user

pytestmark = pytest.mark.django_db
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HOSTILE = [
    "",
    " ",
    "0",
    "-1",
    "1e9",
    "566881933",
    "99999999999999999999999",
    "1/../2",
    "%00",
    "\x00",
    "<script>alert(1)</script>",
    "{{ 7*7 }}",
    "'; DROP TABLE auth_user--",
    "\u202e\u200b",
    "INSTORE",
    "ALL",
    "raw",
    "x" * 5000,
]
values = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=60))
CUSTOMER_PARAMS = [
    "source",
    "org",
    "accountId",
    "tab",
    "refresh",
    "days",
    "onlyCurrent",
    "ug2From",
    "ug2To",
    "ug2Limit",
    "ug2Offset",
    "ug2SortBy",
    "ug2SortOrder",
    "ug2Loyalty",
]
SEARCH_FIELDS = ["customer_id", "source", "org", "account_id"]
AUDIT_FIELDS = ["user", "customer", "org", "action", "outcome", "start", "end", "page"]


def _params(names):
    return st.dictionaries(st.sampled_from(names), values, max_size=len(names))


@pytest.fixture
def ops_client(client, org, django_user_model, settings):
    settings.LOOKUP_RATE_LIMIT = 0  # fuzzing looks up many customers; the limit is tested elsewhere
    client.force_login(make_user(django_user_model, "fuzzer", roles.LOYALTY_OPS, org))
    client.raise_request_exception = False
    return client


@FUZZ
@given(params=_params(SEARCH_FIELDS))
def test_search_form(ops_client, sandbox, params):
    before = sandbox.stats()["customer_calls"]
    response = ops_client.get("/", params)
    assert response.status_code in (HTTPStatus.OK, HTTPStatus.FOUND, HTTPStatus.BAD_REQUEST)
    assert sandbox.stats()["customer_calls"] == before  # search never calls Capillary


@FUZZ
@given(
    customer_id=st.one_of(st.sampled_from(HOSTILE), st.text(min_size=1, max_size=30)),
    params=_params(CUSTOMER_PARAMS),
)
def test_customer_page(ops_client, sandbox, customer_id, params):
    before = sandbox.stats()["customer_calls"]
    path = quote(customer_id, safe="")
    if not path or path in (".", ".."):
        return
    response = ops_client.get(f"/customers/{path}/", params)
    assert response.status_code < 500 or response.status_code in (502, 503, 504), (
        response.status_code
    )
    invalid = response.status_code == HTTPStatus.BAD_REQUEST or (
        response.status_code == HTTPStatus.NOT_FOUND and not customer_id.isdigit()
    )
    if invalid:
        assert sandbox.stats()["customer_calls"] == before


@FUZZ
@given(
    slug=st.sampled_from(["profile", "raw", "cards", "nope", "x" * 50]),
    params=_params(CUSTOMER_PARAMS),
)
def test_customer_tab(ops_client, sandbox, slug, params):
    response = ops_client.get(f"/customers/566881933/tabs/{slug}/", params, HTTP_HX_REQUEST="true")
    assert response.status_code < 500 or response.status_code in (502, 503, 504)


@FUZZ
@given(
    form=st.dictionaries(st.sampled_from(["ref", "reason"]), values, max_size=2),
    params=_params(["source", "org"]),
)
def test_reveal_form(ops_client, sandbox, form, params):
    before = sandbox.stats()["customer_calls"]
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
    response = ops_client.post(f"/customers/566881933/reveal/?{query}", form)
    assert response.status_code in (HTTPStatus.BAD_REQUEST, HTTPStatus.NOT_FOUND, HTTPStatus.OK)
    assert sandbox.stats()["customer_calls"] == before  # no valid reference, no call


@FUZZ
@given(params=_params(AUDIT_FIELDS))
def test_audit_filters(ops_client, params):
    response = ops_client.get("/audit/", params)
    assert response.status_code in (HTTPStatus.OK, HTTPStatus.BAD_REQUEST)
    export = ops_client.get("/audit/export.csv", params)
    assert export.status_code == HTTPStatus.OK
    b"".join(export.streaming_content)


@FUZZ
@given(form=st.dictionaries(st.sampled_from(["username", "password", "next"]), values, max_size=3))
def test_sign_in_form(client, db, form, settings):
    settings.LOGIN_FAILURE_LIMIT = 1000
    client.raise_request_exception = False
    response = client.post("/login/", form)
    assert response.status_code in (HTTPStatus.OK, HTTPStatus.FOUND, HTTPStatus.BAD_REQUEST)
