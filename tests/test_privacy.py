"""Masking of personal data by role, and the audited reveal."""

from __future__ import annotations

import json
from http import HTTPStatus

import pytest

from lookup import privacy, roles, tabs
from lookup.capillary import CustomerQuery, records
from lookup.models import AuditRecord
from lookup.tabs import CustomerLinks
from tests.conftest import CUSTOMER

MOBILE, EXTERNAL_ID, CARD = "1234512345", "12341234", "mtest00000000067003"
CLEAR = (MOBILE, EXTERNAL_ID, CARD, "1999-08-08")


@pytest.mark.parametrize(
    ("kind", "value", "masked"),
    [
        ("mobile", "919876512345", "+91 ******2345"),
        ("mobile", "1234512345", "******2345"),
        ("mobile", "+44 7700 900123", "+44 ******0123"),
        ("email", "jane.doe@example.com", "j***@example.com"),
        ("externalId", "12341234", "********"),
        ("card", "mtest00000000067003", "************7003"),
        ("dob", "1999-08-08T00:00:00Z", "****-**-**"),
        ("name", "Tom", "T***"),
        ("mobile", "12", "******"),
    ],
)
def test_mask_formats(kind, value, masked):
    assert privacy.mask_for(kind, value) == masked
    assert value not in privacy.mask_for(kind, value) or len(value) <= 4


@pytest.fixture
def seed(documented_customer):
    return documented_customer(CUSTOMER)


def test_mask_raw_hides_every_personal_value(seed):
    masked = privacy.mask_raw(seed)
    text = json.dumps(masked)
    for value in CLEAR:
        assert value not in text
    assert "TOM" not in text  # a name in a card's extended fields
    assert "Mumbai" in text and "Male" in text  # not personal enough to hide
    assert "Bubalus" in text  # the profile name stays: the page is about this person
    customer = records.Customer.from_raw(masked)
    assert customer.profiles[0].identifiers[0].value == "******2345"
    assert customer.extended_fields["dob"] == "****-**-**"


def test_masked_values_keep_their_reference(seed):
    masked = privacy.mask_raw(seed, lambda path: "/".join(map(str, path)))
    customer = records.Customer.from_raw(masked)
    value = customer.profiles[0].identifiers[0].value
    assert isinstance(value, privacy.Masked)
    assert value.ref == "profiles/0/identifiers/0/value"
    assert privacy.value_at(seed, ["profiles", 0, "identifiers", 0, "value"]) == MOBILE


def test_sweep_masks_copies_elsewhere():
    raw = {"profiles": [{"identifiers": [{"type": "mobile", "value": MOBILE}]}], "note": MOBILE}
    assert MOBILE not in json.dumps(privacy.mask_raw(raw))


def test_reference_is_signed():
    ref = privacy.make_ref(1, CUSTOMER, [("source", "INSTORE")], ["a", 0])
    assert privacy.read_ref(ref) == (1, CUSTOMER, [("source", "INSTORE")], ["a", 0])
    with pytest.raises(Exception):  # noqa: B017 - any BadSignature subclass
        privacy.read_ref(ref[:-2] + "xx")


PAGES = [
    f"/customers/{CUSTOMER}/?source=INSTORE",
    *(
        f"/customers/{CUSTOMER}/tabs/{slug}/?source=INSTORE"
        for slug in ("profile", "identifiers", "cards", "loyalty", "groups", "upgrade")
    ),
]


@pytest.mark.parametrize("role", [roles.STORE_MANAGER, roles.CALL_CENTRE_AGENT, None])
def test_masked_roles_never_see_clear_values(as_role, sandbox, role):
    client = as_role(role)
    for url in PAGES:
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            response = client.get(url, **headers)
            assert response.status_code == HTTPStatus.OK, url
            html = response.content.decode()
            for value in CLEAR:
                assert value not in html, (url, value)


@pytest.mark.parametrize("role", [roles.LOYALTY_OPS, roles.ADMIN])
def test_loyalty_ops_see_clear_values(as_role, sandbox, role):
    client = as_role(role)
    response = client.get(f"/customers/{CUSTOMER}/tabs/identifiers/?source=INSTORE")
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert MOBILE in html


def _ref(org, path):
    base = CustomerQuery(customer_id=CUSTOMER, source="INSTORE")
    query = tabs.part_query(base, "base", tabs.PageOptions())
    return privacy.make_ref(org.pk, CUSTOMER, query.params(), path)


REVEAL = f"/customers/{CUSTOMER}/reveal/?source=INSTORE"
MOBILE_PATH = ["profiles", 0, "identifiers", 0, "value"]


def test_agent_reveal_needs_a_reason(as_role, org, sandbox):
    client = as_role(roles.CALL_CENTRE_AGENT)
    response = client.post(REVEAL, {"ref": _ref(org, MOBILE_PATH)}, HTTP_HX_REQUEST="true")
    assert response.status_code == HTTPStatus.OK
    assert "Give a reason" in response.content.decode()
    assert MOBILE not in response.content.decode()
    assert not AuditRecord.objects.filter(action="reveal").exists()


def test_agent_reveal_with_reason(as_role, org, sandbox):
    client = as_role(roles.CALL_CENTRE_AGENT)
    client.get(f"/customers/{CUSTOMER}/?source=INSTORE")  # the page view, which fills the cache
    calls = sandbox.stats()["customer_calls"]
    response = client.post(
        REVEAL, {"ref": _ref(org, MOBILE_PATH), "reason": "ticket 42"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == HTTPStatus.OK
    assert MOBILE in response.content.decode()
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert sandbox.stats()["customer_calls"] == calls  # served from the cache
    record = AuditRecord.objects.get(action="reveal")
    assert record.outcome == "ok" and record.reason == "ticket 42"
    assert record.detail == "profiles.0.identifiers.0.value"
    assert MOBILE not in json.dumps(list(AuditRecord.objects.values()), default=str)


def test_store_manager_cannot_reveal(as_role, org, sandbox):
    client = as_role(roles.STORE_MANAGER)
    response = client.post(REVEAL, {"ref": _ref(org, MOBILE_PATH), "reason": "x"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert MOBILE not in response.content.decode()
    assert sandbox.stats()["customer_calls"] == 0


def test_reveal_rejects_a_forged_or_foreign_reference(as_role, org, sandbox):
    client = as_role(roles.CALL_CENTRE_AGENT)
    forged = client.post(REVEAL, {"ref": "not-a-ref", "reason": "x"})
    assert forged.status_code == HTTPStatus.BAD_REQUEST
    other = privacy.make_ref(org.pk, 565261498, [("source", "INSTORE")], MOBILE_PATH)
    foreign = client.post(REVEAL, {"ref": other, "reason": "x"})
    assert foreign.status_code == HTTPStatus.NOT_FOUND
    assert sandbox.stats()["customer_calls"] == 0


def test_reveal_needs_post(as_role):
    response = as_role(roles.CALL_CENTRE_AGENT).get(REVEAL)
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_reveal_needs_csrf(org, make_user, sandbox):
    from django.test import Client

    user = make_user("csrfagent", roles.CALL_CENTRE_AGENT, org)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    response = strict.post(REVEAL, {"ref": _ref(org, MOBILE_PATH), "reason": "x"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert MOBILE not in response.content.decode()


def test_pii_tag_renders_reveal_for_agents_only(rf, org, make_user):
    from django.contrib.auth.models import AnonymousUser  # noqa: F401
    from django.template import engines

    template = engines["django"].from_string("{% load privacy_tags %}{% pii value %}")
    value = privacy.Masked("******2345", ref="REF", kind="mobile")
    query = CustomerQuery(customer_id=CUSTOMER, source="INSTORE")
    for role, expect in ((roles.CALL_CENTRE_AGENT, True), (roles.STORE_MANAGER, False)):
        request = rf.get("/")
        request.user = make_user(role[:10].replace(" ", ""), role, org)
        links = CustomerLinks(query, org_param=org.slug)
        html = template.render({"value": value, "links": links}, request)
        assert "******2345" in html
        assert ("Reveal" in html) is expect
        assert ('name="reason"' in html) is expect
        assert "pii-copy" in html


def test_references_are_signed_only_when_used():
    made: list[list] = []

    def make(path: list) -> str:
        made.append(path)
        return "REF:" + "/".join(map(str, path))

    masked = privacy.mask_raw({"identifiers": [{"type": "mobile", "value": "919876512345"}]}, make)
    value = masked["identifiers"][0]["value"]
    assert made == []  # masking signs nothing
    assert value.ref == "REF:identifiers/0/value"
    assert value.ref == "REF:identifiers/0/value"
    assert made == [["identifiers", 0, "value"]]  # signed once, on first use


def test_masked_copy_is_reused_per_upstream_answer(org, sandbox):
    from lookup import services

    data = services.fetch_customer(org, CustomerQuery(customer_id=CUSTOMER, source="INSTORE"))
    first = privacy.mask_data(data, org.pk)
    again = privacy.mask_data(data, org.pk)
    assert again.customer is first.customer  # the walk ran once
    assert MOBILE not in again.raw_text
    refetched = services.fetch_customer(
        org, CustomerQuery(customer_id=CUSTOMER, source="INSTORE"), refresh=True
    )
    assert privacy.mask_data(refetched, org.pk).customer is not first.customer


def test_a_personal_value_repeated_elsewhere_is_swept(monkeypatch):
    raw = {
        "identifiers": [{"type": "mobile", "value": "919876512345"}],
        "loyaltyInfo": {"note": "919876512345", "other": "9198765"},
    }
    masked, text = privacy.mask_raw_and_text(raw)
    assert "919876512345" not in text
    assert isinstance(masked["loyaltyInfo"]["note"], privacy.Masked)
    assert masked["loyaltyInfo"]["other"] == "9198765"  # only whole equal values
    # With nothing left over, the second walk is skipped and the answer is the same.
    monkeypatch.setattr(privacy._Walker, "sweep", lambda *a: pytest.fail("swept for nothing"))
    clean = {"identifiers": [{"type": "mobile", "value": "919876512345"}], "id": 7}
    masked, text = privacy.mask_raw_and_text(clean)
    assert "919876512345" not in text and json.loads(text)["id"] == 7


def test_revealed_dates_read_as_dates():
    from lookup.views.reveal import readable

    assert readable("1990-05-17") == "17 May 1990"
    assert readable("1990-05-17T00:00:00Z") == "17 May 1990"
    assert readable("+91 98450 12345") == "+91 98450 12345"
    assert readable("2024-13-45") == "2024-13-45"
    assert readable(42) == 42


def test_reveal_without_javascript_returns_to_the_page(as_role, org, sandbox):
    client = as_role(roles.CALL_CENTRE_AGENT)
    page = f"/customers/{CUSTOMER}/tabs/identifiers/?source=INSTORE"
    assert MOBILE not in client.get(page).content.decode()
    response = client.post(
        REVEAL, {"ref": _ref(org, MOBILE_PATH), "reason": "ticket 9"}, HTTP_REFERER=page
    )
    assert response.status_code == HTTPStatus.FOUND and response["Location"] == page
    assert MOBILE not in response["Location"]
    html = client.get(page).content.decode()
    assert MOBILE in html and "pii-revealed" in html
    assert MOBILE not in client.get(page).content.decode()  # for that one page view
    assert AuditRecord.objects.get(action="reveal").reason == "ticket 9"
    # A Referer elsewhere is not followed: back to the customer's own page.
    response = client.post(
        REVEAL,
        {"ref": _ref(org, MOBILE_PATH), "reason": "ticket 9"},
        HTTP_REFERER="https://elsewhere.example/customers/",
    )
    assert response["Location"] == f"/customers/{CUSTOMER}/?source=INSTORE"
