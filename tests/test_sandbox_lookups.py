"""Lookup by identifier and name search: the sandbox's endpoints through the client, over HTTP."""

from __future__ import annotations

import pytest
import requests

from lookup.capillary import (
    AuthenticationFailed,
    BadRequest,
    BasicAuth,
    CapillaryClient,
    CustomerMerged,
    CustomerNotFound,
    CustomerQuery,
)
from lookup.capillary.lookup import IdentifierQuery
from lookup.sandbox.data import build_customer
from lookup.sandbox.faults import FAULT_IDS, survivor_of
from lookup.sandbox.identifiers import email_of, mobile_of


@pytest.fixture
def client(sandbox):
    client = CapillaryClient(
        sandbox.url, BasicAuth("demo.till", "demo-password"), deadline=3.0, read_timeout=2.0
    )
    yield client
    client.close()


def _instore(customer_id: int) -> dict:
    customer = build_customer(customer_id)
    return next(p for p in customer.base["profiles"] if p["source"] == "INSTORE")


def _identifier(customer_id: int, kind: str) -> str:
    return next(i["value"] for i in _instore(customer_id)["identifiers"] if i["type"] == kind)


@pytest.mark.parametrize("customer_id", [100000000, 100000006, 100000008, 100000009, 100000004])
def test_every_identifier_finds_its_customer(client, customer_id):
    for name, kind in (("mobile", "mobile"), ("email", "email"), ("externalId", "externalId")):
        value = _identifier(customer_id, kind)
        assert client.lookup_customer_id(IdentifierQuery(name, value)) == customer_id


def test_countries(client):
    assert mobile_of(100000006).startswith("44")  # GB
    assert mobile_of(100000008).startswith("65")  # SG
    assert mobile_of(100000009).startswith("1201")  # US
    assert mobile_of(100000004, "unicode_cjk").startswith("86")


def test_seed_mobile(client):
    assert client.lookup_customer_id(IdentifierQuery("mobile", "1234512345")) == 566881933


def test_email_is_case_insensitive(client):
    value = email_of(100000042).upper()
    assert client.lookup_customer_id(IdentifierQuery("email", value)) == 100000042


def test_card_number_and_external_id(client):
    cards = [c for c in build_customer(100000008).base["cardDetails"] if c["statusInfo"]["status"]]
    assert client.lookup_customer_id(IdentifierQuery("cardnumber", cards[0]["cardNumber"])) == (
        100000008
    )
    with_external = next(
        c
        for cid in range(100000000, 100000100)
        for c in build_customer(cid).base.get("cardDetails") or []
        if c.get("cardExternalId")
    )
    found = client.lookup_customer_id(
        IdentifierQuery("cardExternalId", with_external["cardExternalId"])
    )
    assert any(
        c.get("cardExternalId") == with_external["cardExternalId"]
        for c in build_customer(found).base["cardDetails"]
    )


def test_details_match_the_by_id_answer(client):
    shape = CustomerQuery(customer_id=1, embed=frozenset({"points", "mlp"}), gap_to_upgrade=0)
    value = _identifier(100000042, "mobile")
    by_lookup = client.lookup_customer(IdentifierQuery("mobile", value), shape)
    by_id = client.get_customer(shape.replace(customer_id=100000042))
    assert by_lookup.raw == by_id.raw
    assert by_lookup.path == "/v2/customers/lookup/customerDetails"


def test_not_found(client):
    with pytest.raises(CustomerNotFound) as caught:
        client.lookup_customer_id(IdentifierQuery("mobile", "919999999999"))
    assert caught.value.code == 8015


def test_not_in_that_source(client):
    with pytest.raises(CustomerNotFound) as caught:
        client.lookup_customer_id(
            IdentifierQuery("mobile", _identifier(100000042, "mobile"), source="MARTJACK")
        )
    assert caught.value.code == 8065


def test_shared_email_across_sources(client):
    owner = next(
        cid
        for cid in range(100000000, 100010000, 40)
        if not any(p["source"] == "MARTJACK" for p in build_customer(cid).base["profiles"])
    )
    email = email_of(owner)
    assert client.lookup_customer_id(IdentifierQuery("email", email)) == owner
    assert client.lookup_customer_id(IdentifierQuery("email", email, source="MARTJACK")) == (
        owner + 15
    )


def test_merged(client):
    with pytest.raises(CustomerMerged) as caught:
        client.lookup_customer(
            IdentifierQuery("email", email_of(FAULT_IDS["merged"])), CustomerQuery(customer_id=1)
        )
    assert caught.value.survivor_id == survivor_of(FAULT_IDS["merged"])


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("source=INSTORE&identifierName=nickname&identifierValue=x", 8013),
        ("source=WECHAT&identifierName=mobile&identifierValue=919876500042", 8045),
        ("identifierName=mobile&identifierValue=919876500042", 8001),
    ],
)
def test_invalid_lookups(sandbox, query, code):
    headers = BasicAuth("demo.till", "demo-password").headers(None)
    response = requests.get(
        f"{sandbox.url}/v2/customers/lookup?{query}", headers=headers, timeout=5
    )
    assert response.json()["errors"][0]["code"] == code


def test_missing_account_id_is_a_bad_request(client):
    with pytest.raises(BadRequest) as caught:
        client.lookup_customer_id(IdentifierQuery("mobile", "919876500042", source="WECHAT"))
    assert caught.value.code == 8045


def test_name_search(client):
    page = client.search_customers("Tom", limit=5)
    assert page.total > 5 and len(page.hits) == 5
    for hit in page.hits:
        assert any(
            first.startswith("Tom") or last.startswith("Tom") for _s, first, last in hit.names
        )
    assert client.search_customers("Bubalus").hits[0].customer_id == 566881933


def test_lookups_are_authenticated(sandbox):
    client = CapillaryClient(sandbox.url, BasicAuth("demo.till", "wrong"), deadline=3.0)
    with pytest.raises(AuthenticationFailed):
        client.lookup_customer_id(IdentifierQuery("mobile", "919876500042"))
    client.close()
