"""The search box against the sandbox over HTTP: one call, chooser, errors, audit, privacy."""

from __future__ import annotations

import logging
from http import HTTPStatus

import pytest

from lookup import roles
from lookup.models import AuditRecord, OrgAccess, RecentCustomer
from lookup.sandbox.data import build_customer
from lookup.sandbox.faults import FAULT_IDS, survivor_of
from lookup.sandbox.identifiers import email_of, mobile_of
from tests.conftest import calls

RAHUL = 100000042  # INSTORE mobile 919876500042
GB_CUSTOMER = 100000006  # INSTORE mobile 447911100006


def _shared_email_owner() -> int:
    """Return a customer whose INSTORE email is also another customer's MARTJACK email."""
    return next(
        cid
        for cid in range(100000000, 100010000, 40)
        if not any(p["source"] == "MARTJACK" for p in build_customer(cid).base["profiles"])
    )


@pytest.mark.parametrize(
    ("typed", "customer_id"),
    [
        ("+91 98765 00042", RAHUL),
        ("098765-00042", RAHUL),
        ("919876500042", RAHUL),
        ("0091 (98765) 00042", RAHUL),
        ("98765.00042", RAHUL),
        ("+44 7911 100006", GB_CUSTOMER),
        ("0044 7911 100006", GB_CUSTOMER),
        (email_of(RAHUL).upper(), RAHUL),
        ("EXT100000042", RAHUL),
    ],
)
def test_one_match_opens_the_customer_with_one_call(agent_client, sandbox, typed, customer_id):
    response = agent_client.post("/find/", {"q": typed})
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response["Location"] == f"/customers/{customer_id}/?source=INSTORE"
    page = agent_client.get(response["Location"])
    assert page.status_code == HTTPStatus.OK
    assert calls(sandbox) == 1  # the lookup; the page was served from its answer


def test_card_number_as_scanned(agent_client, sandbox):
    card = next(
        c["cardNumber"]
        for c in build_customer(100000008).base["cardDetails"]
        if c["statusInfo"]["status"] == "ACTIVE"
    )
    response = agent_client.post("/find/", {"q": card + "\n"})
    assert response["Location"] == "/customers/100000008/?source=INSTORE"


def test_customer_id_needs_no_lookup(agent_client, sandbox):
    response = agent_client.post("/find/", {"q": " 566881933 "})
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response["Location"] == "/customers/566881933/?source=INSTORE"
    assert calls(sandbox) == 0


def test_search_as_overrides_the_guess(agent_client, sandbox):
    response = agent_client.post("/find/", {"q": "9876500042", "search_as": "customer_id"})
    assert response["Location"] == "/customers/9876500042/?source=INSTORE"


def test_impossible_mobile_makes_no_call(agent_client, sandbox):
    response = agent_client.post("/find/", {"q": "+44 7911", "search_as": "mobile"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert b"not a valid phone number in GB, +44" in response.content
    assert calls(sandbox) == 0


def test_default_country_reads_national_numbers(agent_client, sandbox, org):
    org.default_country = "GB"
    org.save()
    response = agent_client.post("/find/", {"q": "07911 100006"})
    assert response["Location"] == f"/customers/{GB_CUSTOMER}/?source=INSTORE"


def test_not_found(agent_client, sandbox):
    response = agent_client.post("/find/", {"q": "+91 98765 09999"})
    assert response.status_code == HTTPStatus.NOT_FOUND
    text = response.content.decode()
    assert "No customer has mobile +91 98765 09999 (searched as 919876509999) in INSTORE" in text
    assert 'name="source" value="MARTJACK"' in text  # the other sources, one click each
    assert "Read as mobile +91 98765 09999, searched as 919876509999" in text


def test_merged(agent_client, sandbox):
    merged = FAULT_IDS["merged"]
    response = agent_client.post("/find/", {"q": email_of(merged)})
    assert response.status_code == HTTPStatus.CONFLICT
    assert b"merged into another account" in response.content
    assert f'href="/customers/{survivor_of(merged)}/?source=INSTORE"'.encode() in response.content


def test_missing_account_id(agent_client, sandbox):
    response = agent_client.post("/find/", {"q": mobile_of(RAHUL), "source": "WECHAT"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert b"This source needs an account ID." in response.content


def test_upstream_failure(agent_client, sandbox):
    sandbox.set_fault(RAHUL, "http_500")
    response = agent_client.post("/find/", {"q": mobile_of(RAHUL)})
    assert response.status_code == HTTPStatus.BAD_GATEWAY
    assert b"Capillary" in response.content


def test_chooser_across_sources(as_role, sandbox, org):
    org.search_every_source = True
    org.save()
    owner = _shared_email_owner()
    client = as_role(roles.STORE_MANAGER)
    response = client.post("/find/", {"q": email_of(owner)})
    assert response.status_code == HTTPStatus.OK
    text = response.content.decode()
    assert "2 customers match" in text
    assert f'href="/customers/{owner}/?source=INSTORE"' in text
    assert f'href="/customers/{owner + 15}/?source=MARTJACK"' in text
    # Masked as on the customer page: identifiers for this role, not the names.
    chooser = text.split('id="chooser-title"', 1)[1]
    assert email_of(owner) not in chooser and "m***@example.com" in chooser
    first = build_customer(owner).base["profiles"][0]["firstName"]
    assert f"<strong>{first}" in chooser
    assert calls(sandbox) == 2  # INSTORE and MARTJACK at once; WECHAT and LINE need an account


def test_chooser_links_open_without_another_call(agent_client, sandbox, org):
    org.search_every_source = True
    org.save()
    owner = _shared_email_owner()
    agent_client.post("/find/", {"q": email_of(owner)})
    before = calls(sandbox)
    assert agent_client.get(f"/customers/{owner + 15}/?source=MARTJACK").status_code == 200
    assert calls(sandbox) == before


def test_search_is_audited(agent_client, sandbox):
    agent_client.post("/find/", {"q": "+91 98765 00042"})
    agent_client.post("/find/", {"q": "+91 98765 09999"})
    searches = list(AuditRecord.objects.filter(action="search").order_by("id"))
    assert [(r.customer_id, r.outcome) for r in searches] == [(RAHUL, "ok"), (None, "not_found")]
    assert searches[0].detail == "mobile +91 ******0042: 1 found"
    assert all("98765" not in r.detail for r in searches)


def test_identifier_never_in_urls_or_logs(agent_client, sandbox, caplog, org):
    org.search_every_source = True
    org.save()
    caplog.set_level(logging.DEBUG)  # the project's loggers at their most talkative
    typed, stored = "+91 98765 00042", "919876500042"
    response = agent_client.post("/find/", {"q": typed}, follow=True)
    assert response.status_code == HTTPStatus.OK
    for url, _status in response.redirect_chain:
        assert stored not in url and "98765" not in url
    agent_client.post("/find/", {"q": "+91 98765 09999"})
    agent_client.post("/find/", {"q": "nobody@example.com"})
    # Every field of every record, but the clock's and the process's numbers (a run's
    # relativeCreated can hold any digits).
    clocks = {"created", "msecs", "relativeCreated", "thread", "process"}
    logged = "\n".join(
        r.getMessage() + repr({k: v for k, v in r.__dict__.items() if k not in clocks})
        for r in caplog.records
    )
    for secret in (stored, "98765", "919876509999", "nobody@example.com"):
        assert secret not in logged


def test_search_box_is_a_post_without_autocomplete(agent_client):
    page = agent_client.get("/").content.decode()
    assert 'action="/find/"' in page and 'method="post"' in page
    assert page.count('autocomplete="off"') >= 2  # the page's box and the top bar's
    assert agent_client.get("/find/", {"q": "x"}).status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_searches_count_toward_the_lookup_limit(agent_client, sandbox, settings):
    settings.LOOKUP_RATE_LIMIT = 2
    agent_client.post("/find/", {"q": "+91 98765 09998"})
    agent_client.post("/find/", {"q": "+91 98765 09999"})
    response = agent_client.post("/find/", {"q": "+91 98765 00042"})
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert calls(sandbox) == 2


def test_opening_the_customer_found_costs_nothing_more(agent_client, sandbox, settings):
    settings.LOOKUP_RATE_LIMIT = 1
    assert agent_client.post("/find/", {"q": "+91 98765 00042"}).status_code == 303
    assert agent_client.get(f"/customers/{RAHUL}/?source=INSTORE").status_code == 200


def test_source_not_granted(as_role, sandbox):
    client = as_role(roles.CALL_CENTRE_AGENT, sources="MARTJACK")
    response = client.post("/find/", {"q": "+91 98765 00042", "source": "INSTORE"})
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert calls(sandbox) == 0


def test_recent_and_pinned(agent_client, agent, sandbox, org):
    agent_client.get(f"/customers/{RAHUL}/?source=INSTORE")
    agent_client.get("/customers/566881933/?source=INSTORE")
    page = agent_client.get("/").content.decode()
    recent = page.split('data-list="recent"', 1)[1]
    assert recent.index("566881933") < recent.index(str(RAHUL))  # newest first
    assert "Bubalus bubalis" in recent
    entry = RecentCustomer.objects.get(customer_id=RAHUL)
    assert agent_client.post(f"/recent/{entry.pk}/pin/", {"pinned": "1"}).status_code == 302
    page = agent_client.get("/").content.decode()
    assert str(RAHUL) in page.split('data-list="pinned"', 1)[1].split("</ul>", 1)[0]


def test_recent_follows_the_grant(agent_client, agent, sandbox, org):
    agent_client.get(f"/customers/{RAHUL}/?source=INSTORE")
    RecentCustomer.objects.update(pinned=True)
    OrgAccess.objects.filter(user=agent).update(sources="MARTJACK")
    page = agent_client.get("/").content.decode()
    assert str(RAHUL) not in page
    OrgAccess.objects.filter(user=agent).delete()
    assert str(RAHUL) not in agent_client.get("/").content.decode()


def test_recent_keeps_twenty(agent_client, sandbox):
    for n in range(22):
        agent_client.get(f"/customers/{100000100 + n}/?source=INSTORE")
    assert RecentCustomer.objects.count() == 20


def test_name_search_as_you_type(agent_client, sandbox, org):
    org.name_search = True
    org.save()
    page = agent_client.get("/").content.decode()
    assert 'hx-post="/find/names/"' in page and "delay:300ms" in page
    assert 'hx-sync="this:replace"' in page
    response = agent_client.post("/find/names/", {"q": "Bubalus"})
    assert b"/customers/566881933/?source=INSTORE" in response.content
    assert agent_client.post("/find/names/", {"q": "Bu"}).content.strip() == b""
    assert AuditRecord.objects.filter(action="search").count() == 1


def test_name_search_off(agent_client, sandbox, org):
    assert 'hx-post="/find/names/"' not in agent_client.get("/").content.decode()
    assert b"customers" not in agent_client.post("/find/names/", {"q": "Bubalus"}).content
    response = agent_client.post("/find/", {"q": "Tom Sawyer"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert b"Name search is not switched on" in response.content
    assert calls(sandbox) == 0


def test_name_search_chooser(agent_client, sandbox, org):
    org.name_search = True
    org.save()
    response = agent_client.post("/find/", {"q": "Tom Sawyer", "search_as": "name"})
    assert response.status_code == HTTPStatus.OK
    assert b"customers match" in response.content


def test_last_org_is_remembered(agent_client, agent, sandbox, org):
    from lookup.models import Org, UserPreference

    other = Org.objects.create(name="Other", slug="other", base_url=sandbox.url)
    OrgAccess.objects.create(user=agent, org=other)
    agent_client.post("/find/", {"q": "566881933", "org": "other"})
    assert UserPreference.objects.get(user=agent).last_org == other
    page = agent_client.get("/").content.decode()
    assert '<option value="other" selected>' in page


def test_copy_summary(as_role, sandbox):
    client = as_role(roles.LOYALTY_OPS)
    page = client.get("/customers/566881933/?source=INSTORE").content.decode()
    assert 'data-copy="566881933"' in page
    summary = page.split('<pre id="customer-summary" hidden>', 1)[1].split("</pre>", 1)[0]
    assert "Customer: Bubalus bubalis" in summary
    assert "Customer ID: 566881933 · source INSTORE" in summary
    assert "points" in summary


def test_copy_summary_is_masked(as_role, sandbox):
    client = as_role(roles.STORE_MANAGER)
    page = client.get("/customers/566881933/?source=INSTORE").content.decode()
    summary = page.split('<pre id="customer-summary" hidden>', 1)[1].split("</pre>", 1)[0]
    heading = page.split("<h1>", 1)[1].split("</h1>", 1)[0]
    assert f"Customer: {heading}" in summary  # as the header shows it
    assert "Cards: ****" in summary


def test_refused_identifier_is_shown_on_the_field():
    from lookup.capillary import BadRequest, CustomerNotFound
    from lookup.search.classify import read
    from lookup.search.resolve import Result

    result = Result(read("EXT1", "IN"), ["INSTORE"])
    result.errors.append(("INSTORE", BadRequest("Invalid identifier", code=8013)))
    assert result.field_error == (
        "q",
        "Capillary does not accept this external ID as an identifier.",
    )
    result.errors[:] = [("INSTORE", CustomerNotFound(code=8065))]
    assert result.field_error is None and result.failure is None


def test_org_settings_from_the_command_line(org):
    from django.core.management import call_command

    call_command("orgs", "update", org.slug, "--country", "gb", "--name-search", "on")
    org.refresh_from_db()
    assert (org.default_country, org.name_search, org.search_every_source) == ("GB", True, False)


def test_unknown_country_is_refused(org):
    from django.core.exceptions import ValidationError

    org.default_country = "XX"
    with pytest.raises(ValidationError):
        org.full_clean()


def test_top_bar_org_switcher(agent_client, agent, sandbox, org):
    from lookup.models import Org

    assert 'aria-label="Org to search in"' not in agent_client.get("/preferences/").content.decode()
    other = Org.objects.create(name="Other", slug="other", base_url=sandbox.url)
    OrgAccess.objects.create(user=agent, org=other)
    agent_client.post("/find/", {"q": "566881933", "org": "other"})
    page = agent_client.get("/preferences/").content.decode()
    switcher = page.split('aria-label="Org to search in"', 1)[1].split("</select>", 1)[0]
    assert '<option value="other" selected>' in switcher
    OrgAccess.objects.filter(user=agent, org=other).delete()
    page = agent_client.get("/preferences/").content.decode()
    assert 'aria-label="Org to search in"' not in page


def test_one_customer_in_two_sources_is_one_match(agent_client, sandbox, org):
    org.search_every_source = True
    org.save()
    both = next(
        cid
        for cid in range(100000001, 100000100)
        if cid % 40 != 15
        and {"INSTORE", "MARTJACK"} <= {p["source"] for p in build_customer(cid).base["profiles"]}
    )
    response = agent_client.post("/find/", {"q": email_of(both)})
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response["Location"] == f"/customers/{both}/?source=INSTORE"


def test_deleted_customer_leaves_every_list(agent_client, sandbox, org):
    agent_client.get(f"/customers/{RAHUL}/?source=INSTORE")
    RecentCustomer.objects.update(pinned=True)
    sandbox.set_fault(RAHUL, "pii_deleted")
    assert agent_client.get(f"/customers/{RAHUL}/?source=INSTORE&refresh=1").status_code == 410
    assert not RecentCustomer.objects.exists()
