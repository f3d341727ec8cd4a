"""Tests for the Capillary client: query validation, credentials, errors, deadline, logging."""

from __future__ import annotations

import http.server
import logging
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from requests.adapters import HTTPAdapter

from lookup.capillary import (
    EMBEDS,
    AuthenticationFailed,
    BadRequest,
    BasicAuth,
    CapillaryClient,
    CapillaryError,
    CustomerDeleted,
    CustomerMerged,
    CustomerNotFound,
    CustomerQuery,
    InvalidQuery,
    InvalidResponse,
    NotPermitted,
    OAuthAuth,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from lookup.capillary.errors import error_for, parse_retry_after
from lookup.sandbox.faults import FAULT_IDS
from lookup.sandbox.server import SandboxConfig, SandboxServer

TILL_USER, TILL_PASSWORD = "demo.till", "demo-password"
OAUTH_KEY, OAUTH_SECRET = "demo-key", "demo-secret"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
SEED_ID, TOM_ID = 566881933, 565261498


@pytest.fixture(autouse=True)
def only_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any request a test makes to a host other than this machine."""
    real_send = HTTPAdapter.send

    def send(self: HTTPAdapter, request: requests.PreparedRequest, **kwargs: Any) -> Any:
        host = urlsplit(request.url).hostname
        assert host in LOOPBACK, f"a test tried to reach {host}"
        return real_send(self, request, **kwargs)

    monkeypatch.setattr(HTTPAdapter, "send", send)


# -- CustomerQuery ------------------------------------------------------------------


def test_query_defaults() -> None:
    query = CustomerQuery(SEED_ID)
    assert query.params() == [("source", "INSTORE")]
    assert query.path == f"/v2/customers/{SEED_ID}"


def test_query_every_parameter() -> None:
    query = CustomerQuery(
        customer_id=42,
        source="wechat",
        account_id="wechat-con1",
        embed=frozenset({"MLP", "points", "customerimage"}),
        included_all_user_group2=True,
        user_group2_id=3918893,
        included_user_group2_loyalty_details=True,
        included_fraud_details=True,
        included_only_current_profile=True,
        ug2_joined_start_date=date(2024, 1, 1),
        ug2_joined_end_date=datetime(2025, 1, 31, 12, 0, tzinfo=UTC),
        ug2_offset=0,
        ug2_limit=100,
        ug2_sort_by="JoinedDate",
        ug2_sort_order="asc",
        ug2_pagination_details=True,
        gap_to_upgrade=0,
        gap_to_renew=30,
        ndnc_status=True,
        optin_status=True,
        slab_history=True,
        tier_upgrade_criteria=True,
        membership_retention_criteria=True,
    )
    assert query.params() == [
        ("source", "WECHAT"),
        ("accountId", "wechat-con1"),
        ("embed", "customerImage,mlp,points"),
        ("includedAllUserGroup2", "true"),
        ("userGroup2Id", "3918893"),
        ("includedUserGroup2LoyaltyDetails", "true"),
        ("includedFraudDetails", "true"),
        ("includedOnlyCurrentProfile", "true"),
        ("ug2JoinedStartDate", "2024-01-01"),
        ("ug2JoinedEndDate", "2025-01-31T12:00:00+00:00"),
        ("ug2Offset", "0"),
        ("ug2Limit", "100"),
        ("ug2SortBy", "JoinedDate"),
        ("ug2SortOrder", "ASC"),
        ("ug2PaginationDetails", "true"),
        ("gapToUpgrade", "0"),
        ("gapToRenew", "30"),
        ("ndncStatus", "true"),
        ("optinStatus", "true"),
        ("slabHistory", "true"),
        ("tierUpgradeCriteria", "true"),
        ("membershipRetentionCriteria", "true"),
    ]
    assert query.embed == {"customerImage", "mlp", "points"}
    assert query.source == "WECHAT"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"customer_id": 0}, "customer_id"),
        ({"customer_id": -5}, "customer_id"),
        ({"customer_id": 2**63}, "customer_id"),
        ({"customer_id": True}, "customer_id"),
        ({"customer_id": "12"}, "customer_id"),
        ({"customer_id": 1.0}, "customer_id"),
        ({"source": "FACEBOOK"}, "source"),
        ({"source": None}, "source"),
        ({"account_id": "a" * 65}, "account_id"),
        ({"account_id": "a/b"}, "account_id"),
        ({"account_id": "a b"}, "account_id"),
        ({"embed": frozenset({"coupons"})}, "embed"),
        ({"embed": 5}, "embed"),
        ({"embed": [1]}, "embed"),
        ({"included_fraud_details": "yes"}, "included_fraud_details"),
        ({"user_group2_id": 0}, "user_group2_id"),
        ({"ug2_offset": -1}, "ug2_offset"),
        ({"ug2_limit": 0}, "ug2_limit"),
        ({"ug2_limit": 101}, "ug2_limit"),
        ({"ug2_sort_by": "Joined Date"}, "ug2_sort_by"),
        ({"ug2_sort_order": "UP"}, "ug2_sort_order"),
        ({"gap_to_upgrade": 1}, "gap_to_upgrade"),  # needs embed=mlp
        ({"gap_to_renew": 1}, "gap_to_renew"),
        ({"gap_to_upgrade": -1, "embed": frozenset({"mlp"})}, "gap_to_upgrade"),
        ({"ug2_joined_start_date": "2024-01-01"}, "ug2_joined_start_date"),
        (
            {"ug2_joined_start_date": date(2025, 2, 1), "ug2_joined_end_date": date(2025, 1, 1)},
            "ug2_joined_end_date",
        ),
    ],
)
def test_query_invalid(changes: dict[str, Any], field: str) -> None:
    values = {"customer_id": 1, **changes}
    with pytest.raises(InvalidQuery) as caught:
        CustomerQuery(**values)
    assert caught.value.field == field
    assert caught.value.message.endswith(".")
    assert str(caught.value) == caught.value.message


@pytest.mark.parametrize(
    "raw",
    ["1/../2", "-5", "abc", "1.0", "", "0", "1e3", "12 34", "١٢", "99999999999999999999", "0x10"],
)
def test_parse_rejects_customer_id(raw: str) -> None:
    with pytest.raises(InvalidQuery) as caught:
        CustomerQuery.parse(raw)
    assert caught.value.field == "customer_id"
    assert caught.value.message == "Customer ID must be a positive whole number."


def test_parse_accepts_strings() -> None:
    query = CustomerQuery.parse(
        " 12 ",
        source="line",
        embed="Points, MLP",
        gap_to_upgrade="0",
        ndncStatus="TRUE",
        optin_status="1",
        slab_history="0",
        ug2_limit="",
        ug2JoinedStartDate="2024-01-01",
        ug2_joined_end_date="2024-02-01T10:00:00Z",
    )
    assert query.customer_id == 12
    assert query.source == "LINE"
    assert query.embed == {"points", "mlp"}
    assert query.gap_to_upgrade == 0
    assert (query.ndnc_status, query.optin_status, query.slab_history) == (True, True, False)
    assert query.ug2_limit is None
    assert query.ug2_joined_start_date == date(2024, 1, 1)
    assert query.ug2_joined_end_date == datetime(2024, 2, 1, 10, tzinfo=UTC)
    assert CustomerQuery.parse("7", embed=["points", "mlp"]).embed == {"points", "mlp"}


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"source": "nope"}, "source"),
        ({"embed": "points,bogus"}, "embed"),
        ({"ndnc_status": "maybe"}, "ndnc_status"),
        ({"ug2_limit": "-5"}, "ug2_limit"),
        ({"ug2_limit": "1.5"}, "ug2_limit"),
        ({"ug2_offset": "abc"}, "ug2_offset"),
        ({"user_group2_id": "1/../2"}, "user_group2_id"),
        ({"gap_to_renew": "3"}, "gap_to_renew"),
        ({"ug2_joined_start_date": "yesterday"}, "ug2_joined_start_date"),
        ({"account_id": "../etc"}, "account_id"),
        ({"unknown": "1"}, "unknown"),
    ],
)
def test_parse_rejects(raw: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidQuery) as caught:
        CustomerQuery.parse("5", **raw)
    assert caught.value.field == field


def test_normalised_key_ignores_order_and_spelling() -> None:
    one = CustomerQuery.parse("5", embed="mlp,points", source="instore", gap_to_upgrade="0")
    two = CustomerQuery(5, embed=frozenset({"POINTS", "Mlp"}), gap_to_upgrade=0)
    assert one == two
    assert one.normalised_key() == two.normalised_key()
    assert one.normalised_key() != CustomerQuery(5, embed=frozenset({"points"})).normalised_key()
    assert " " not in one.normalised_key()


def test_replace_validates() -> None:
    query = CustomerQuery(5)
    assert query.replace(source="all").source == "ALL"
    with pytest.raises(InvalidQuery):
        query.replace(ug2_limit=500)


def test_basic_auth_header() -> None:
    # Capillary's older example is self-consistent: md5("server123") = 8a16a6b7...
    auth = BasicAuth("store.server", "server123")
    expected = "Basic c3RvcmUuc2VydmVyOjhhMTZhNmI3MDUwNWViMWYxZmY3Y2RjMGNkNTU1OWE3"
    assert auth.headers(None) == {"Authorization": expected}  # type: ignore[arg-type]
    assert "server123" not in repr(auth)
    assert "8a16a6b7" not in repr(auth)
    assert not auth.invalidate({"Authorization": expected})


def test_basic_auth_doc_example() -> None:
    # The current page's store123/Pass123 example prints a digest that is not md5("Pass123")
    # (that is 2f23fa35...), so check its encoding step from the digest it shows.
    doc = "Basic c3RvcmUxMjM6YmRjODdiOWM4OTRkYTUxNjgwNTllMDBlYmZmYjkwNzc="
    from_digest = BasicAuth.from_md5("store123", "bdc87b9c894da5168059e00ebffb9077")
    assert from_digest.headers(None) == {"Authorization": doc}  # type: ignore[arg-type]
    assert BasicAuth("store123", "Pass123").headers(None) == {  # type: ignore[arg-type]
        "Authorization": "Basic c3RvcmUxMjM6MmYyM2ZhMzU3OWYzZjc1MTc1NzkzNjQ5MTE1YzFiMjU="
    }
    assert "bdc87b9c" not in repr(from_digest)


def test_retry_after() -> None:
    assert parse_retry_after("7") == 7.0
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert parse_retry_after("Wed, 01 Jan 2025 00:00:30 GMT", now) == 30.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (400, {"errors": [{"code": 8015, "message": "x"}]}, CustomerNotFound),
        (500, {"errors": [{"code": 816}]}, CustomerNotFound),
        (200, {"errors": [{"code": 1012}]}, CustomerNotFound),
        (
            500,
            {"errors": [{"message": "Customer is deleted after PII delete request"}]},
            CustomerDeleted,
        ),
        (200, {"errors": [{"code": "8109"}]}, CustomerDeleted),
        (200, {"errors": [{"code": 1044}]}, NotPermitted),
        (503, {"errors": [{"code": 4001}]}, UpstreamError),
        (404, None, CustomerNotFound),
        (401, None, AuthenticationFailed),
        (403, None, NotPermitted),
        (429, None, RateLimited),
        (400, None, BadRequest),
        (415, {"errors": [{"code": 8003, "message": "Invalid source"}]}, BadRequest),
        (200, {"errors": [{"code": 8003, "message": "Invalid source"}]}, BadRequest),
        (302, None, InvalidResponse),
        (504, None, UpstreamError),
    ],
)
def test_error_mapping_table(status: int, body: Any, cls: type[CapillaryError]) -> None:
    error = error_for(status, body)
    assert type(error) is cls


def test_success_is_not_an_error() -> None:
    body = {"id": 1, "warnings": [{"code": 8069, "message": "Merged customer found"}]}
    assert error_for(200, body) is None


# -- Against the sandbox ------------------------------------------------------------


def sandbox_config(token_ttl_seconds: float) -> SandboxConfig:
    return SandboxConfig(
        host="127.0.0.1",
        port=0,
        till_username=TILL_USER,
        till_password=TILL_PASSWORD,
        oauth_key=OAUTH_KEY,
        oauth_secret=OAUTH_SECRET,
        token_ttl_seconds=token_ttl_seconds,
        timeout_seconds=5.0,
    )


@pytest.fixture(scope="module")
def capillary_sandbox() -> Iterator[Any]:
    server = SandboxServer(sandbox_config(token_ttl_seconds=300))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sandbox_url(capillary_sandbox: Any) -> str:
    capillary_sandbox.reset()
    return capillary_sandbox.url


@pytest.fixture
def faults() -> dict[str, int]:
    return FAULT_IDS


def basic_client(url: str, **kwargs: Any) -> CapillaryClient:
    kwargs.setdefault("deadline", 3.0)
    kwargs.setdefault("read_timeout", 2.0)
    return CapillaryClient(url, BasicAuth(TILL_USER, TILL_PASSWORD), **kwargs)


def test_base_url_checked() -> None:
    auth = BasicAuth("u", "p")
    for bad in (
        "ftp://example.test",
        "http://",
        "example.test",
        "http://u:p@host",
        "http://h/?q=1",
    ):
        with pytest.raises(ValueError):
            CapillaryClient(bad, auth)
    assert CapillaryClient("http://127.0.0.1:9/api/", auth).base_url == "http://127.0.0.1:9/api"


def test_get_seed_customer(sandbox_url: str) -> None:
    client = basic_client(sandbox_url)
    result = client.get_customer(CustomerQuery(SEED_ID))
    assert result.status == HTTPStatus.OK
    assert result.customer.id == SEED_ID
    assert result.customer.display_name == "Bubalus bubalis"
    assert result.raw["id"] == SEED_ID
    assert '"id": 566881933' in result.raw_text
    assert result.path == f"/v2/customers/{SEED_ID}"
    assert result.params == [("source", "INSTORE")]
    assert result.request_id
    assert result.elapsed_ms > 0
    assert result.warnings == []


def test_get_with_blocks(sandbox_url: str) -> None:
    query = CustomerQuery(
        TOM_ID,
        embed=frozenset({"mlp", "points"}),
        gap_to_upgrade=0,
        gap_to_renew=0,
        ndnc_status=True,
        optin_status=True,
        slab_history=True,
        tier_upgrade_criteria=True,
        membership_retention_criteria=True,
    )
    customer = basic_client(sandbox_url).get_customer(query).customer
    assert customer.display_name == "Tom Sawyer"
    assert customer.slab_history
    assert customer.programs
    assert {"slab_history", "programs", "ndnc_status"} <= customer.present


def test_not_found(sandbox_url: str) -> None:
    with pytest.raises(CustomerNotFound) as caught:
        basic_client(sandbox_url).get_customer(CustomerQuery(123))
    assert caught.value.status == HTTPStatus.NOT_FOUND
    assert caught.value.code == 8015
    assert caught.value.request_id


FAULT_EXPECTATIONS = {
    "http_500": (UpstreamError, 502),
    "http_503": (UpstreamError, 502),
    "rate_limited": (RateLimited, 429),
    "rate_limited_517": (RateLimited, 429),
    "http_521": (UpstreamError, 502),
    "http_461": (UpstreamError, 502),
    "timeout": (UpstreamTimeout, 504),
    "trickle": (UpstreamTimeout, 504),
    "malformed_json": (InvalidResponse, 502),
    "html_error": (InvalidResponse, 502),
    "wrong_shape": (InvalidResponse, 502),
    "pii_deleted": (CustomerDeleted, 410),
    "merged": (CustomerMerged, 409),
    "not_permitted": (NotPermitted, 403),
    "bad_request": (BadRequest, 400),
    "not_found_8065": (CustomerNotFound, 404),
    "not_found": (CustomerNotFound, 404),
    "unauthorized": (AuthenticationFailed, 502),
}


@pytest.mark.parametrize("name", sorted(FAULT_EXPECTATIONS))
def test_fault(sandbox_url: str, faults: dict[str, int], name: str) -> None:
    cls, status = FAULT_EXPECTATIONS[name]
    client = basic_client(sandbox_url, deadline=1.5, read_timeout=1.0)
    started = time.monotonic()
    with pytest.raises(cls) as caught:
        client.get_customer(CustomerQuery(faults[name]))
    error = caught.value
    assert type(error) is cls
    assert error.status == status
    assert error.title
    assert error.message
    assert TILL_PASSWORD not in error.message
    assert time.monotonic() - started < 3.0
    if name == "rate_limited":
        assert error.retry_after == 7
    if name in ("http_500", "http_503", "rate_limited", "timeout", "html_error"):
        assert error.retryable
    if name in ("pii_deleted", "merged", "not_permitted", "bad_request", "wrong_shape"):
        assert not error.retryable


def test_oauth_refused_twice(sandbox_url: str, faults: dict[str, int]) -> None:
    auth = OAuthAuth(OAUTH_KEY, OAUTH_SECRET)
    client = CapillaryClient(sandbox_url, auth)
    with pytest.raises(AuthenticationFailed):
        client.get_customer(CustomerQuery(faults["unauthorized"]))
    assert auth.generated == 2  # one fresh token, one retry, then give up


ALL_BLOCKS = CustomerQuery(
    1,
    source="ALL",
    embed=frozenset(EMBEDS),
    included_all_user_group2=True,
    included_user_group2_loyalty_details=True,
    included_fraud_details=True,
    ug2_pagination_details=True,
    gap_to_upgrade=0,
    gap_to_renew=30,
    ndnc_status=True,
    optin_status=True,
    slab_history=True,
    tier_upgrade_criteria=True,
    membership_retention_criteria=True,
)


def test_every_archetype_parses(sandbox_url: str) -> None:
    client = basic_client(sandbox_url)
    for customer_id in range(100_000_000, 100_000_040):
        result = client.get_customer(ALL_BLOCKS.replace(customer_id=customer_id))
        customer = result.customer
        assert customer.id == customer_id
        assert isinstance(customer.display_name, str)
        assert {"profiles", "warnings"} <= customer.present
        for program in customer.all_programs:
            assert program.enrolled in (True, False, None)


def test_merged_survivor(sandbox_url: str, faults: dict[str, int]) -> None:
    with pytest.raises(CustomerMerged) as caught:
        basic_client(sandbox_url).get_customer(CustomerQuery(faults["merged"]))
    assert caught.value.code == 8069
    assert isinstance(caught.value.survivor_id, int)
    assert caught.value.survivor_id != faults["merged"]


def test_runtime_fault_and_reset(capillary_sandbox: Any, sandbox_url: str) -> None:
    client = basic_client(sandbox_url)
    capillary_sandbox.set_fault(SEED_ID, "rate_limited", retry_after=3)
    with pytest.raises(RateLimited) as caught:
        client.get_customer(CustomerQuery(SEED_ID))
    assert caught.value.retry_after == 3
    capillary_sandbox.reset()
    assert client.get_customer(CustomerQuery(SEED_ID)).customer.id == SEED_ID


def test_points_warning(sandbox_url: str, faults: dict[str, int]) -> None:
    query = CustomerQuery(faults["points_warning"], embed=frozenset({"points"}))
    result = basic_client(sandbox_url).get_customer(query)
    assert [w.code for w in result.warnings] == [8062]


def test_wrong_password(sandbox_url: str, caplog: pytest.LogCaptureFixture) -> None:
    client = CapillaryClient(sandbox_url, BasicAuth(TILL_USER, "not-the-password"))
    with pytest.raises(AuthenticationFailed) as caught:
        client.get_customer(CustomerQuery(SEED_ID))
    assert caught.value.status == HTTPStatus.BAD_GATEWAY
    assert "credentials" in caught.value.message
    assert "not-the-password" not in caught.value.message


def test_upstream_down() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = basic_client(f"http://127.0.0.1:{port}")
    with pytest.raises(UpstreamUnavailable) as caught:
        client.get_customer(CustomerQuery(1))
    assert caught.value.status == HTTPStatus.BAD_GATEWAY
    assert caught.value.retryable


def test_request_id_logged_without_credentials(
    sandbox_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="lookup.capillary")
    auth = OAuthAuth(OAUTH_KEY, OAUTH_SECRET)
    client = CapillaryClient(sandbox_url, auth)
    result = client.get_customer(CustomerQuery(SEED_ID))
    basic = basic_client(sandbox_url).get_customer(CustomerQuery(TOM_ID))
    lines = [r.getMessage() for r in caplog.records if r.name == "lookup.capillary"]
    assert any(result.request_id in line and str(SEED_ID) in line for line in lines)
    assert any(basic.request_id in line and "status=200" in line for line in lines)
    token = auth._token
    for secret in (OAUTH_SECRET, TILL_PASSWORD, token, "Basic ", "ZGVtby50aWxs"):
        assert secret not in caplog.text
    assert OAUTH_SECRET not in repr(auth)


# -- OAuth --------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_oauth_token_reused_until_expiry(sandbox_url: str) -> None:
    clock = FakeClock()
    auth = OAuthAuth(OAUTH_KEY, OAUTH_SECRET, margin_seconds=30, clock=clock)
    client = CapillaryClient(sandbox_url, auth)
    for _ in range(3):
        client.get_customer(CustomerQuery(SEED_ID))
    assert auth.generated == 1
    clock.now += 300 - 30 - 1
    client.get_customer(CustomerQuery(SEED_ID))
    assert auth.generated == 1
    clock.now += 1
    client.get_customer(CustomerQuery(SEED_ID))
    assert auth.generated == 2


def test_oauth_regenerates_after_401(sandbox_url: str) -> None:
    auth = OAuthAuth(OAUTH_KEY, OAUTH_SECRET)
    client = CapillaryClient(sandbox_url, auth)
    client.get_customer(CustomerQuery(SEED_ID))
    auth._token = "revoked-token"  # as if Capillary had revoked it early
    result = client.get_customer(CustomerQuery(SEED_ID))
    assert result.customer.id == SEED_ID
    assert auth.generated == 2
    assert auth._token != "revoked-token"


def test_oauth_one_token_for_concurrent_callers(sandbox_url: str) -> None:
    auth = OAuthAuth(OAUTH_KEY, OAUTH_SECRET)
    client = CapillaryClient(sandbox_url, auth)
    errors: list[BaseException] = []

    def call() -> None:
        try:
            client.get_customer(CustomerQuery(SEED_ID))
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert auth.generated == 1


def test_oauth_bad_secret(sandbox_url: str) -> None:
    client = CapillaryClient(sandbox_url, OAuthAuth(OAUTH_KEY, "wrong-secret"))
    with pytest.raises(AuthenticationFailed) as caught:
        client.get_customer(CustomerQuery(SEED_ID))
    assert "wrong-secret" not in caught.value.message
    assert caught.value.status == HTTPStatus.BAD_GATEWAY


def test_oauth_expired_on_server() -> None:
    # A clock that never moves keeps the token forever; the server still expires it.
    short = SandboxServer(sandbox_config(token_ttl_seconds=1))
    short.start()
    try:
        auth = OAuthAuth(OAUTH_KEY, OAUTH_SECRET, clock=lambda: 0.0)
        client = CapillaryClient(short.url, auth)
        client.get_customer(CustomerQuery(SEED_ID))
        time.sleep(1.2)
        assert client.get_customer(CustomerQuery(SEED_ID)).customer.id == SEED_ID
        assert auth.generated == 2
    finally:
        short.stop()


# -- A scripted local server for what the sandbox does not do ------------------------


class Scripted(http.server.BaseHTTPRequestHandler):
    """Answer by customer ID: 1 trickles, 2 redirects, 3 is cut short, 4 is an HTML 200."""

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        customer_id = self.path.split("?")[0].rsplit("/", 1)[-1]
        try:
            if customer_id == "1":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "200")
                self.end_headers()
                for byte in b'{"id": 1, "profiles": []' + b" " * 200:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.5)
            elif customer_id == "2":
                self.send_response(302)
                self.send_header("Location", "http://example.com/v2/customers/2")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif customer_id == "3":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "500")
                self.end_headers()
                self.wfile.write(b'{"id": 3, "profi')
                self.wfile.flush()
                self.close_connection = True
            else:
                body = b"<html><body>Maintenance</body></html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture(scope="module")
def scripted_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_deadline_against_trickle(scripted_url: str) -> None:
    client = basic_client(scripted_url, deadline=1.5, read_timeout=1.0)
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout) as caught:
        client.get_customer(CustomerQuery(1))
    elapsed = time.monotonic() - started
    assert 1.4 <= elapsed < 2.2
    assert caught.value.status == HTTPStatus.GATEWAY_TIMEOUT


def test_redirect_not_followed(scripted_url: str) -> None:
    with pytest.raises(InvalidResponse):
        basic_client(scripted_url).get_customer(CustomerQuery(2))


def test_truncated_body(scripted_url: str) -> None:
    with pytest.raises(InvalidResponse):
        basic_client(scripted_url).get_customer(CustomerQuery(3))


def test_html_with_200(scripted_url: str) -> None:
    with pytest.raises(InvalidResponse) as caught:
        basic_client(scripted_url).get_customer(CustomerQuery(4))
    assert caught.value.upstream_status == HTTPStatus.OK


class _RecordingProxy(http.server.BaseHTTPRequestHandler):
    """A forward proxy that only answers: it records the absolute URL it was asked for."""

    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        type(self).seen.append(self.path)
        body = b'{"id": 42, "profiles": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_environment_proxy_read_once_and_honoured(
    monkeypatch: pytest.MonkeyPatch, sandbox_url: str
) -> None:
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RecordingProxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    _RecordingProxy.seen.clear()
    try:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        target = "http://localhost:9"  # nothing listens there: only the proxy can answer
        client = CapillaryClient(target, BasicAuth(TILL_USER, TILL_PASSWORD))
        assert client.get_customer(CustomerQuery(customer_id=42)).customer.id == 42
        assert _RecordingProxy.seen[0].startswith("http://localhost:9/v2/customers/42?")
        assert client.session.trust_env is False  # settled once, not read per call
        # A host listed in NO_PROXY is reached directly.
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        direct = CapillaryClient(sandbox_url, BasicAuth(TILL_USER, TILL_PASSWORD))
        assert direct.get_customer(CustomerQuery(customer_id=SEED_ID)).customer.id == SEED_ID
        assert len(_RecordingProxy.seen) == 1
    finally:
        proxy.shutdown()
        proxy.server_close()
