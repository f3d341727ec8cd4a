"""The search and customer pages against the sandbox as a real server."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from lookup.sandbox.faults import FAULT_IDS

pytestmark = pytest.mark.django_db


def test_health_needs_no_sign_in(client):
    response = client.get("/healthz")
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("url", ["/", "/customers/566881933/?source=INSTORE"])
def test_login_required(client, url):
    response = client.get(url)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/login/")


def test_search_form(agent_client):
    response = agent_client.get("/")
    assert response.status_code == HTTPStatus.OK
    assert b"Find a customer" in response.content


def test_search_redirects_to_customer(agent_client, sandbox):
    response = agent_client.get("/", {"customer_id": " 566881933 ", "source": "INSTORE"})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/customers/566881933/?source=INSTORE"
    assert sandbox.stats()["customer_calls"] == 0


@pytest.mark.parametrize(
    ("customer_id", "source", "field"),
    [
        ("abc", "INSTORE", "customer_id"),
        ("-5", "INSTORE", "customer_id"),
        ("0", "INSTORE", "customer_id"),
        ("1/../2", "INSTORE", "customer_id"),
        ("12.5", "INSTORE", "customer_id"),
        ("", "INSTORE", "customer_id"),
        ("566881933", "FACEBOOK", "source"),
        ("99999999999999999999999", "INSTORE", "customer_id"),
    ],
)
def test_search_invalid_input(agent_client, sandbox, customer_id, source, field):
    response = agent_client.get("/", {"customer_id": customer_id, "source": source})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    errors = response.context["form"].errors
    assert field in errors
    assert b'class="field-error"' in response.content
    assert sandbox.stats()["customer_calls"] == 0


def test_search_invalid_account_id(agent_client, sandbox):
    response = agent_client.get(
        "/", {"customer_id": "5", "source": "WECHAT", "account_id": "a/../../b"}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "account_id" in response.context["form"].errors
    assert sandbox.stats()["customer_calls"] == 0


def test_customer_bubalus(agent_client, sandbox):
    response = agent_client.get("/customers/566881933/", {"source": "INSTORE"})
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "Bubalus bubalis" in html
    assert "566881933" in html
    assert "naman_doc" in html  # associated till
    assert "221,350" in html  # lifetime purchases
    assert "neeraj.doc" in html and "george.docdemo" in html  # attribution
    assert "Mumbai" in html  # extended fields
    assert sandbox.stats()["customer_calls"] == 1  # the header's parts, in one call


def test_customer_tom_sawyer(agent_client):
    response = agent_client.get("/customers/565261498/", {"source": "INSTORE"})
    assert response.status_code == HTTPStatus.OK
    assert "Tom Sawyer" in response.content.decode()


def test_customer_cached_second_time(agent_client, sandbox):
    agent_client.get("/customers/566881933/", {"source": "INSTORE"})
    agent_client.get("/customers/566881933/", {"source": "INSTORE"})
    assert sandbox.stats()["customer_calls"] == 1


@pytest.mark.parametrize("bad", ["abc", "-1", "0", "1e5", "١٢٣"])
def test_customer_bad_id(agent_client, sandbox, bad):
    response = agent_client.get(f"/customers/{bad}/", {"source": "INSTORE"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert b"positive whole number" in response.content
    assert sandbox.stats()["customer_calls"] == 0


def test_customer_bad_source(agent_client, sandbox):
    response = agent_client.get("/customers/566881933/", {"source": "<script>"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert b"<script>" not in response.content
    assert sandbox.stats()["customer_calls"] == 0


def test_unknown_org_is_404(agent_client, sandbox):
    response = agent_client.get("/customers/566881933/", {"source": "INSTORE", "org": "other"})
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert sandbox.stats()["customer_calls"] == 0


def test_not_found(agent_client):
    response = agent_client.get("/customers/123/", {"source": "INSTORE"})
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert b"No customer" in response.content or b"not found" in response.content.lower()


@pytest.mark.parametrize(
    ("fault", "status", "words"),
    [
        ("not_found_8065", 404, "not found"),
        ("pii_deleted", 410, "deleted"),
        ("merged", 409, "merged"),
        ("rate_limited", 429, "wait 7 seconds"),
        ("rate_limited_517", 429, "try again"),
        ("http_500", 502, "capillary"),
        ("http_503", 502, "capillary"),
        ("http_521", 502, "capillary"),
        ("http_461", 502, "capillary"),
        ("html_error", 502, "capillary"),
        ("malformed_json", 502, "capillary"),
        ("wrong_shape", 502, "capillary"),
        ("not_permitted", 403, "permi"),
        ("bad_request", 400, "capillary"),
        ("timeout", 504, "time"),
        ("trickle", 504, "time"),
    ],
)
def test_failure_pages(agent_client, fault, status, words):
    response = agent_client.get(f"/customers/{FAULT_IDS[fault]}/", {"source": "INSTORE"})
    assert response.status_code == status
    body = response.content.decode().lower()
    assert words in body
    assert "traceback" not in body
    if fault == "rate_limited":
        assert response["Retry-After"] == "7"


def test_authentication_failed(agent_client, org):
    org.set_till_password("wrong")
    org.save()
    response = agent_client.get("/customers/566881933/", {"source": "INSTORE"})
    assert response.status_code == HTTPStatus.BAD_GATEWAY
    assert "credentials" in response.content.decode().lower()


def test_upstream_down(agent_client, org):
    org.base_url = "http://127.0.0.1:9"  # discard port: nothing listens
    org.save()
    response = agent_client.get("/customers/566881933/", {"source": "INSTORE"})
    assert response.status_code == HTTPStatus.BAD_GATEWAY


def test_header_row_per_program(agent_client, sandbox):
    from lookup.sandbox.data import SHAPES

    response = agent_client.get(f"/customers/{SHAPES['many_programs']}/", {"source": "INSTORE"})
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    programs = response.context["header_rows"]
    assert len(programs) >= 2
    assert html.count('class="standing-row"') == len(programs)
    for row in programs:
        assert row.gap_text in html.replace("&#x27;", "'")
        assert " to go" in row.gap_text or "reached" in row.gap_text or "Top tier" in row.gap_text
        assert row.expiry_text.startswith(("Tier expires", "Tier expired", "Tier never"))
    # Tier, points and gaps come with the parts the first paint fetches anyway.
    assert sandbox.stats()["customer_calls"] == 1


def test_header_cards_line(agent_client, sandbox):
    from lookup.sandbox.data import SHAPES

    response = agent_client.get(f"/customers/{SHAPES['many_cards']}/", {"source": "INSTORE"})
    line = response.context["header_cards"]
    assert line.startswith("19 cards: ")
    assert line in response.content.decode()
    assert sandbox.stats()["customer_calls"] == 1
