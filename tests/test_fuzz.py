"""Property-based fuzzing of every query parameter and form field: never a 500, no wasted call."""

from __future__ import annotations

from contextlib import contextmanager
from http import HTTPStatus
from urllib.parse import quote, urlencode

import pytest
from django.urls import resolve
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lookup import roles

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
def ops_client(client, org, make_user, settings):
    settings.LOOKUP_RATE_LIMIT = 0  # fuzzing looks up many customers; the limit is tested elsewhere
    client.force_login(make_user("fuzzer", roles.LOYALTY_OPS, org))
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


# --- Integers in every query parameter of every view ----------------------------------------
# Text that looks like a number to someone: 5,000 digits (int() raises past 4,300), signs,
# Unicode digits that int() accepts, spaces, exponents, superscripts and zero padding.
INT_HOSTILE = [
    "9" * 5000,
    "-" + "9" * 5000,
    "1" * 20,
    "-1",
    "+1",
    " 7 ",
    "١٢٣",
    "１２３",
    "²",
    "1e3",
    "1_000",
    "0" * 30 + "1",
]
int_like = st.one_of(
    st.sampled_from(INT_HOSTILE),
    st.text(alphabet="0123456789", min_size=1, max_size=5000),
    st.from_regex(r"\s*[-+]?[0-9]{1,40}\s*", fullmatch=True),
    st.text(alphabet=st.characters(categories=["Nd"]), min_size=1, max_size=25),
)


@contextmanager
def _params_read():
    """Collect the name of every GET or POST parameter a request looks at."""
    from django.http import QueryDict
    from django.utils.datastructures import MultiValueDict

    names: set[str] = set()
    spied = {attr: MultiValueDict.__dict__.get(attr) for attr in ("get", "getlist", "__getitem__")}

    def spy(attr):
        real = getattr(MultiValueDict, attr)

        def read(self, key, *args, **kwargs):
            if isinstance(self, QueryDict):
                names.add(key)
            return real(self, key, *args, **kwargs)

        return read

    def contains(self, key):
        if isinstance(self, QueryDict):
            names.add(key)
        return dict.__contains__(self, key)

    for attr in spied:
        setattr(MultiValueDict, attr, spy(attr))
    MultiValueDict.__contains__ = contains
    try:
        yield names
    finally:
        for attr, real in spied.items():
            setattr(MultiValueDict, attr, real)
        del MultiValueDict.__contains__


def _send(client, method: str, path: str, params: dict[str, str], **headers):
    if method == "post":
        return client.post(f"{path}?{urlencode(params)}", params, **headers)
    return client.get(path, params, **headers)


@pytest.fixture
def view_params(staff_client, every_view, settings):
    """Return (URL name, method, path, parameter names it reads) for every view.

    Found by watching which parameters each view reads, asking again with those set
    (a bound form reads more), until nothing new is read.
    """
    settings.LOOKUP_RATE_LIMIT = 0
    settings.LOGIN_FAILURE_LIMIT = 10_000
    staff_client.raise_request_exception = False
    found, seen_callbacks = [], set()
    for name, path in every_view:
        callback = resolve(path).func
        if callback in seen_callbacks:
            continue  # one tab, one image kind: the same view and the same parameters
        seen_callbacks.add(callback)
        method, names = "get", set()
        for _ in range(4):
            with _params_read() as read:
                response = _send(staff_client, method, path, dict.fromkeys(names, "1"))
            if response.status_code == HTTPStatus.METHOD_NOT_ALLOWED and method == "get":
                method = "post"
                continue
            staff_client.force_login(staff_client.signed_in_as)  # after logout
            if read <= names:
                break
            names |= read
        found.append((name, method, path, sorted(names - {"csrfmiddlewaretoken"})))
    return found


def _answered(response) -> bool:
    """Return whether the view answered as designed: no 500, no stack trace."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return b"Traceback" not in body and (
        response.status_code < 500 or response.status_code in (502, 503, 504)
    )


def test_every_view_reads_some_parameter(view_params):
    """The inventory the next two tests fuzz: no view's parameters go unseen."""
    by_name = {name: names for name, _method, _path, names in view_params}
    assert {"days", "ug2Offset", "ug2Limit", "source", "org"} <= set(by_name["customer-tab"])
    assert {"customer", "page", "start"} <= set(by_name["audit"])
    assert {"customer_id", "account_id"} <= set(by_name["search"])
    assert {"ref", "source", "org"} <= set(by_name["reveal"])


def test_integer_text_in_every_parameter_of_every_view(staff_client, sandbox, view_params):
    for name, method, path, names in view_params:
        for param in names:
            for value in INT_HOSTILE:
                response = _send(staff_client, method, path, {param: value})
                assert _answered(response), (name, param, value[:20], response.status_code)
                staff_client.force_login(staff_client.signed_in_as)


@FUZZ
@given(data=st.data())
def test_integer_fuzz_in_every_view(staff_client, sandbox, view_params, data):
    name, method, path, names = data.draw(st.sampled_from(view_params))
    if not names:
        return
    params = data.draw(st.dictionaries(st.sampled_from(names), int_like, min_size=1))
    response = _send(staff_client, method, path, params)
    assert _answered(response), (name, {k: v[:20] for k, v in params.items()})
    staff_client.force_login(staff_client.signed_in_as)
