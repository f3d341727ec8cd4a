"""Every failure named: PII-deleted customers, unreadable answers, and what records make of odd data."""

from __future__ import annotations

import logging
from http import HTTPStatus

import pytest
import requests
from django.http import QueryDict
from django.template.loader import render_to_string
from django.utils.html import escape

from lookup import services, tabs
from lookup.capillary import (
    BasicAuth,
    CapillaryClient,
    CapillaryError,
    CustomerDeleted,
    CustomerQuery,
    InvalidResponse,
    UpstreamError,
)
from lookup.capillary.errors import UNREADABLE_REASONS, UNREADABLE_SENTENCES, error_for
from lookup.capillary.records import (
    ApiWarning,
    CommChannel,
    LoyaltyProgram,
    Profile,
    unique_warnings,
)
from lookup.sandbox.faults import FAULT_IDS

SEED = 566881933
INSTORE = {"source": "INSTORE"}
PII_FAULTS = ("pii_deleted", "pii_deleted_message", "pii_deleted_v11")
UNREADABLE_FAULTS = {
    "too_large": "too_large",
    "redirect": "redirect",
    "malformed_json": "not_json",
    "html_error": "not_json",
    "cut_short": "cut_short",
    "too_deep": "too_deep",
    "wrong_shape": "wrong_shape",
}
PII_MESSAGE = "Customer is deleted after PII delete request"


def client_for(sandbox, **kwargs) -> CapillaryClient:
    return CapillaryClient(
        sandbox.url, BasicAuth("demo.till", "demo-password"), deadline=3.0, **kwargs
    )


def calls(sandbox) -> int:
    return sandbox.stats()["customer_calls"]


def header_queries(org) -> list[CustomerQuery]:
    """Return the queries the customer page makes for SEED's header."""
    query = CustomerQuery.parse(str(SEED), source="INSTORE", account_id=org.default_account_id)
    options = tabs.parse_options(QueryDict(""))
    return list(tabs.part_queries(query, tabs.HEADER_PARTS, options).values())


# -- PII-deleted customers: the client ------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (400, {"errors": [{"status": False, "code": 8109, "message": PII_MESSAGE}]}, 8109),
        (200, {"errors": [{"code": "8109"}]}, 8109),
        (503, {"errors": [{"code": 8109}]}, 8109),
        (500, {"errors": [{"message": PII_MESSAGE.upper()}]}, None),
        (200, {"message": PII_MESSAGE}, None),
        (200, {"message": "  customer IS deleted after pii  delete request.  "}, None),
        (404, {"message": "Customer was deleted after PII deletion request"}, None),
        (403, {"message": "Customer deleted after a PII_delete request"}, None),
        (500, {"status": False, "message": PII_MESSAGE, "warnings": []}, None),
        (
            500,
            {
                "response": {
                    "status": {"success": "false", "code": 500, "message": "All failed"},
                    "customers": {
                        "customer": [
                            {
                                "id": "172157568",
                                "item_status": {"success": "false", "code": "8109"},
                            },
                            {"item_status": {"success": "false", "code": "400"}},
                        ]
                    },
                }
            },
            8109,
        ),
        (
            200,
            {
                "response": {
                    "status": {"success": "false", "code": 500},
                    "customers": {
                        "customer": {"item_status": {"code": "", "message": PII_MESSAGE}}
                    },
                }
            },
            None,
        ),
    ],
)
def test_pii_forms_mapped(status, body, code):
    error = error_for(status, body)
    assert type(error) is CustomerDeleted
    assert error.code == code
    assert error.upstream_status == status
    assert not error.retryable
    assert not isinstance(error, UpstreamError)
    assert error.status == HTTPStatus.GONE


@pytest.mark.parametrize(
    "body",
    [
        {"message": "Customer is active"},
        {"errors": [{"code": 8015, "message": "Customer not found for the given identifiers"}]},
        {"response": {"customers": {"customer": [{"item_status": {"code": "8015"}}]}}},
    ],
)
def test_not_deleted(body):
    assert not isinstance(error_for(404, body), CustomerDeleted)


@pytest.mark.parametrize("fault", PII_FAULTS)
def test_pii_fault_client(sandbox, fault):
    client = client_for(sandbox)
    with pytest.raises(CustomerDeleted) as caught:
        client.get_customer(CustomerQuery(FAULT_IDS[fault]))
    error = caught.value
    assert not error.retryable and not isinstance(error, UpstreamError)
    assert error.path == f"/v2/customers/{FAULT_IDS[fault]}"
    assert error.elapsed_ms is not None and error.elapsed_ms >= 0
    assert calls(sandbox) == 1


@pytest.mark.parametrize("status", [200, 400, 410, 500])
@pytest.mark.parametrize("fault", PII_FAULTS)
def test_pii_fault_any_status(sandbox, fault, status):
    sandbox.set_fault(SEED, fault, status=status)
    with pytest.raises(CustomerDeleted) as caught:
        client_for(sandbox).get_customer(CustomerQuery(SEED))
    assert caught.value.upstream_status == status


# -- PII-deleted customers: the page --------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("fault", PII_FAULTS)
def test_pii_fault_page(agent_client, sandbox, fault):
    response = agent_client.get(f"/customers/{FAULT_IDS[fault]}/", INSTORE)
    assert response.status_code == HTTPStatus.GONE
    assert "Customer deleted" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("fault", PII_FAULTS)
def test_pii_deleted_purges_cache(agent_client, org, sandbox, fault):
    assert agent_client.get(f"/customers/{SEED}/", INSTORE).status_code == HTTPStatus.OK
    queries = header_queries(org)
    assert services.in_cache(org, queries) == set(queries)

    sandbox.set_fault(SEED, fault)
    before = calls(sandbox)
    response = agent_client.get(f"/customers/{SEED}/", {**INSTORE, "refresh": "1"})
    assert response.status_code == HTTPStatus.GONE
    html = response.content.decode()
    assert "Customer deleted" in html
    assert "Bubalus" not in html
    assert calls(sandbox) - before == 1  # one call for the whole header, not retried
    assert services.in_cache(org, queries) == set()

    # The next plain look-up asks Capillary again instead of showing the old copy.
    again = agent_client.get(f"/customers/{SEED}/", INSTORE)
    assert again.status_code == HTTPStatus.GONE
    assert "Bubalus" not in again.content.decode()


# -- unreadable answers ---------------------------------------------------------------------------


def test_every_reason_has_a_sentence():
    assert (
        set(UNREADABLE_SENTENCES)
        == UNREADABLE_REASONS
        == {
            "too_large",
            "redirect",
            "not_json",
            "cut_short",
            "too_deep",
            "wrong_shape",
        }
    )
    with pytest.raises(ValueError):
        InvalidResponse(reason="odd")


@pytest.mark.parametrize(("fault", "reason"), UNREADABLE_FAULTS.items())
def test_unreadable_client(sandbox, fault, reason):
    with pytest.raises(InvalidResponse) as caught:
        client_for(sandbox).get_customer(CustomerQuery(FAULT_IDS[fault]))
    error = caught.value
    assert error.reason == reason
    assert error.sentence.startswith("Capillary")
    assert error.sentence.endswith(".")
    assert error.upstream_status is not None
    assert error.path == f"/v2/customers/{FAULT_IDS[fault]}"
    fields = error.log_fields()
    assert fields["reason"] == reason
    assert fields["path"] == error.path
    assert fields["upstream_status"] == error.upstream_status
    assert isinstance(fields["elapsed_ms"], float)
    assert "code" in fields


def test_too_large_sentence_names_the_limit(sandbox):
    with pytest.raises(InvalidResponse) as caught:
        client_for(sandbox).get_customer(CustomerQuery(FAULT_IDS["too_large"]))
    assert caught.value.sentence == (
        "Capillary's answer was larger than the dashboard accepts (over 8 MB)."
    )


def test_too_large_while_reading(sandbox):
    # A body within Content-Length checks is still cut off once it passes the limit.
    sandbox.set_fault(SEED, "trickle", interval=0.0)
    with pytest.raises(InvalidResponse) as caught:
        client_for(sandbox, max_body_bytes=200).get_customer(CustomerQuery(SEED))
    assert caught.value.reason == "too_large"
    assert "(over 200 bytes)" in caught.value.sentence


def test_too_deep_for_the_parser(sandbox):
    sandbox.set_fault(SEED, "too_deep", levels=50_000)
    with pytest.raises(InvalidResponse) as caught:
        client_for(sandbox).get_customer(CustomerQuery(SEED))
    assert caught.value.reason == "too_deep"


def test_redirect_not_followed(sandbox):
    sandbox.set_fault(SEED, "redirect", status=307)
    with pytest.raises(InvalidResponse) as caught:
        client_for(sandbox).get_customer(CustomerQuery(SEED))
    assert caught.value.reason == "redirect"
    assert "HTTP 307" in caught.value.sentence
    assert calls(sandbox) == 1


def test_failure_logged_with_fields(sandbox, caplog):
    with (
        caplog.at_level(logging.WARNING, logger="lookup.capillary"),
        pytest.raises(InvalidResponse),
    ):
        client_for(sandbox).get_customer(CustomerQuery(FAULT_IDS["cut_short"]))
    (record,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert record.capillary_reason == "cut_short"
    assert record.capillary_upstream_status == HTTPStatus.OK
    assert "demo-password" not in repr(record.__dict__)


def test_log_fields_keep_out_capillary_text():
    error = error_for(404, {"errors": [{"code": 8015, "message": "no customer 9198765"}]})
    error.path = "/v2/customers/5"
    fields = error.log_fields()
    assert fields == {
        "error": "CustomerNotFound",
        "path": "/v2/customers/5",
        "upstream_status": 404,
        "elapsed_ms": None,
        "code": 8015,
        "request_id": None,
    }
    assert "9198765" not in repr(fields)


PAGE_SENTENCES = {
    "too_large": "Capillary's answer was larger than the dashboard accepts (over 8 MB).",
    "redirect": (
        "Capillary answered with a redirect (HTTP 302) instead of the customer; "
        "the dashboard does not follow redirects."
    ),
    "malformed_json": UNREADABLE_SENTENCES["not_json"],
    "html_error": "Capillary failed (HTTP 502) with a page that is not JSON.",
    "cut_short": UNREADABLE_SENTENCES["cut_short"],
    "too_deep": "Capillary's answer was nested more deeply than the dashboard reads (over 64 levels).",
    "wrong_shape": UNREADABLE_SENTENCES["wrong_shape"],
}


@pytest.mark.django_db
@pytest.mark.parametrize("fault", UNREADABLE_FAULTS)
def test_unreadable_page(agent_client, sandbox, fault):
    response = agent_client.get(f"/customers/{FAULT_IDS[fault]}/", INSTORE)
    assert response.status_code == HTTPStatus.BAD_GATEWAY
    html = response.content.decode()
    assert "Unreadable answer from Capillary" in html
    assert escape(PAGE_SENTENCES[fault]) in html


@pytest.mark.django_db
def test_raw_tab_shows_reason(staff_client, org, sandbox):
    base = header_queries(org)[0]
    services.fetch_customer(org, base)
    sandbox.set_fault(SEED, "cut_short")
    response = staff_client.get(f"/customers/{SEED}/tabs/raw/", INSTORE)
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert '<code class="failure-reason">cut_short</code>' in html
    assert escape(UNREADABLE_SENTENCES["cut_short"]) in html
    assert f"GET /v2/customers/{SEED}" in html


@pytest.mark.django_db
def test_tab_error_shows_sentence(agent_client, sandbox):
    assert agent_client.get(f"/customers/{SEED}/", INSTORE).status_code == HTTPStatus.OK
    sandbox.set_fault(SEED, "wrong_shape")
    response = agent_client.get(
        f"/customers/{SEED}/tabs/identifiers/", INSTORE, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == HTTPStatus.OK
    assert escape(UNREADABLE_SENTENCES["wrong_shape"]) in response.content.decode()


# -- records --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "enrolled"),
    [
        ({"programId": 1, "loyaltyId": 42, "currentSlab": "Gold"}, True),
        ({"programId": 1, "loyaltyId": -1}, False),
        ({"programId": 1, "loyaltyId": "-1", "currentSlab": "Gold"}, False),
        ({"programId": 1, "currentSlab": "Gold", "loyaltyPoints": 120}, None),
        ({"programId": 1, "loyaltyPoints": "0.000"}, None),
        ({"programId": 1, "programTitle": "Club"}, False),
        ({}, False),
    ],
)
def test_enrolled(raw, enrolled):
    assert LoyaltyProgram.from_raw(raw).enrolled is enrolled


def test_not_enrolled_badge():
    def badge(raw):
        program = LoyaltyProgram.from_raw(raw)
        context = {
            "state": {"programs": "shown"},
            "program_views": [{"program": program, "title": "Club", "next_tier": ""}],
            "tz": "UTC",
        }
        return "Not enrolled" in render_to_string("lookup/tabs/loyalty.html", context)

    assert not badge({"programId": 1, "currentSlab": "Gold", "loyaltyPoints": 120})
    assert not badge({"programId": 1, "loyaltyId": 7})
    assert badge({"programId": 1, "loyaltyId": -1})
    assert badge({"programId": 1, "loyaltyId": "-1"})
    assert badge({"programId": 1})


def test_string_flags():
    channel = CommChannel.from_raw(
        {
            "type": "email",
            "primary": "TRUE",
            "verified": " false ",
            "meta": {"residence": "True", "office": "FALSE", "note": "trueish"},
            "attributes": {"subscribed": "true", "count": 3},
        }
    )
    assert channel.primary is True
    assert channel.verified is False
    assert channel.meta_items == (("residence", True), ("office", False), ("note", "trueish"))
    assert channel.attribute_items == (("subscribed", True), ("count", 3))


def test_string_flags_on_the_tab():
    profile = Profile.from_raw(
        {
            "source": "INSTORE",
            "commChannels": [
                {
                    "type": "email",
                    "value": "a@example.com",
                    "primary": "true",
                    "verified": "False",
                    "meta": {"residence": "TRUE", "office": "false"},
                    "attributes": {"subscribed": "False"},
                }
            ],
        }
    )
    html = render_to_string(
        "lookup/tabs/identifiers.html",
        {
            "customer": object(),
            "id_profiles": [{"profile": profile, "identifiers": {}, "identifiers_all": {}}],
        },
    )
    assert "★ primary" in html
    assert "✗ not verified" in html
    assert "residence: ✓ yes" in html
    assert "office: ✗ no" in html
    assert "subscribed: ✗ no" in html


def test_unique_warnings():
    first = ApiWarning.from_raw({"code": 8062, "message": "Points details fetch failed"})
    again = ApiWarning.from_raw({"code": "8062", "message": " Points details  fetch failed"})
    other = ApiWarning.from_raw({"code": 8063, "message": "Segmentation details fetch failed"})
    no_code = ApiWarning.from_raw({"message": "Points details fetch failed"})
    assert first.identity == (8062, "Points details fetch failed")
    assert first.identity == again.identity
    result = unique_warnings([first, other, again, no_code, other])
    assert result == [first, other, no_code]
    assert result[0] is first
    assert unique_warnings(iter([])) == []


def test_capillary_errors_all_carry_log_fields():
    for cls in CapillaryError.__subclasses__():
        error = cls() if cls is not InvalidResponse else cls(reason="not_json")
        fields = error.log_fields()
        assert {"path", "upstream_status", "elapsed_ms", "code"} <= fields.keys()


def test_sandbox_fault_answers(sandbox):
    headers = BasicAuth("demo.till", "demo-password").headers(None, 0.0)

    def get(name, **kwargs):
        url = f"{sandbox.url}/v2/customers/{FAULT_IDS[name]}"
        return requests.get(url, params=INSTORE, headers=headers, timeout=5, **kwargs)

    v11 = get("pii_deleted_v11")
    assert v11.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    (item,) = v11.json()["response"]["customers"]["customer"]
    assert item["id"] == str(FAULT_IDS["pii_deleted_v11"])
    assert item["item_status"]["code"] == "8109"
    message = get("pii_deleted_message")
    assert (message.status_code, message.json()) == (HTTPStatus.OK, {"message": PII_MESSAGE})
    moved = get("redirect", allow_redirects=False)
    assert moved.status_code == HTTPStatus.FOUND
    assert moved.headers["Location"] == "/__sandbox/moved"
    large = get("too_large", stream=True)
    assert int(large.headers["Content-Length"]) > 9 * 1024 * 1024
    large.close()
