"""The customer page's tabs: URLs, fragments, parts fetched per tab, errors and images."""

from __future__ import annotations

import dataclasses
from http import HTTPStatus

import pytest

from lookup import services
from lookup.capillary import CapillaryClient, UpstreamError
from lookup.sandbox.data import SHAPES

pytestmark = pytest.mark.django_db

BUBALUS, TOM = 566881933, 565261498
MY_TABS = ("profile", "identifiers", "groups", "raw")
ALL_TABS = ("profile", "identifiers", "loyalty", "cards", "upgrade", "groups", "raw")
HX = {"HTTP_HX_REQUEST": "true"}
INSTORE = {"source": "INSTORE"}


@pytest.fixture
def ops_client(client, agent):
    """The agent as loyalty ops: sees personal data unmasked and the raw response tab."""
    from django.contrib.auth.models import Group

    agent.groups.add(Group.objects.get(name="Loyalty ops"))
    client.force_login(agent)
    return client


def tab(client, customer_id, slug, htmx=True, **params):
    params = {**INSTORE, **params}
    extra = HX if htmx else {}
    return client.get(f"/customers/{customer_id}/tabs/{slug}/", params, **extra)


def calls(sandbox) -> int:
    return sandbox.stats()["customer_calls"]


# --- the page and its header ---------------------------------------------------------------


def test_page_fetches_header_parts_at_once(ops_client, sandbox):
    response = ops_client.get(f"/customers/{BUBALUS}/", INSTORE)
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "Bubalus bubalis" in html
    assert '<strong>Garnet</strong> <span class="muted">in</span> DocDemoDefaultProgram' in html
    assert "Ruby: 28,650 in purchases to go, 89%" in html
    assert "Renewal not met: was due " in html
    assert "221,350" in html
    assert "Not flagged for fraud" in html and "Opted in" in html and "NDNC" in html
    assert 'id="tab-profile" data-tab="profile"' in html
    assert "HX-Request" in response["Vary"]
    # One upstream call answers the whole header: the record, points and programs.
    assert sorted(map(tuple, sandbox.stats()["embeds"])) == [("mlp", "points")]


def test_page_second_time_is_cached(ops_client, sandbox):
    ops_client.get(f"/customers/{BUBALUS}/", INSTORE)
    ops_client.get(f"/customers/{BUBALUS}/", INSTORE)
    assert calls(sandbox) == 1


def test_fraud_banner(ops_client):
    response = ops_client.get(f"/customers/{SHAPES['fraud']}/", INSTORE)
    html = response.content.decode()
    assert "flagged for fraud: CONFIRMED" in html
    assert "divya_doc" in html


def test_points_warning_in_header(ops_client):
    from lookup.sandbox.faults import FAULT_IDS

    response = ops_client.get(f"/customers/{FAULT_IDS['points_warning']}/", INSTORE)
    assert response.status_code == HTTPStatus.OK
    assert "8062" in response.content.decode()


def test_header_refresh_is_header_only(ops_client, sandbox):
    ops_client.get(f"/customers/{BUBALUS}/", INSTORE)
    response = ops_client.get(f"/customers/{BUBALUS}/", {**INSTORE, "refresh": "1"}, **HX)
    html = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert "<html" not in html and "data-refresh-target" in html and "Bubalus" in html
    assert 'role="tablist"' not in html
    assert calls(sandbox) == 2  # the header's parts again, in one call


# --- each tab: fragment for htmx, whole page otherwise ------------------------------------


@pytest.mark.parametrize("customer_id", [BUBALUS, TOM])
@pytest.mark.parametrize("slug", ALL_TABS)
def test_tab_fragment(ops_client, customer_id, slug):
    response = tab(ops_client, customer_id, slug)
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "<html" not in html
    assert f'data-tab="{slug}"' in html
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize("slug", ALL_TABS)
def test_tab_url_whole_page(ops_client, slug):
    response = tab(ops_client, BUBALUS, slug, htmx=False)
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "<html" in html and "Bubalus bubalis" in html
    selected = f'id="tab-{slug}" data-tab="{slug}"'
    start = html.index(selected)
    assert 'aria-selected="true"' in html[start : html.index(">", start)]
    assert html.count('aria-selected="true"') == 1
    assert "HX-Request" in response["Vary"]


def test_deep_link(ops_client):
    response = ops_client.get(f"/customers/{BUBALUS}/", {**INSTORE, "tab": "groups"})
    html = response.content.decode()
    start = html.index('id="tab-groups"')
    assert 'aria-selected="true"' in html[start : html.index(">", start)]
    assert 'data-tab="groups"' in html and "Activity segment" in html


def test_history_restore_gets_whole_page(ops_client):
    response = ops_client.get(
        f"/customers/{BUBALUS}/tabs/groups/",
        INSTORE,
        **HX,
        HTTP_HX_HISTORY_RESTORE_REQUEST="true",
    )
    assert "<html" in response.content.decode()


def test_unknown_tab(ops_client, sandbox):
    assert tab(ops_client, BUBALUS, "nope").status_code == HTTPStatus.NOT_FOUND
    page = ops_client.get(f"/customers/{BUBALUS}/", {**INSTORE, "tab": "nope"})
    assert page.status_code == HTTPStatus.BAD_REQUEST
    assert calls(sandbox) == 0


# --- what each tab shows -----------------------------------------------------------------


def test_profile_tab(ops_client):
    html = tab(ops_client, BUBALUS, "profile").content.decode()
    assert "neeraj.doc" in html and "george.docdemo" in html
    assert "Mumbai" in html  # extended fields
    assert "Show only the current profile" in html
    assert "None: no conflicting profiles." in html


def test_profile_only_current(ops_client, sandbox):
    customer = SHAPES["multi_source"]
    every = tab(ops_client, customer, "profile", source="ALL").content.decode()
    only = tab(ops_client, customer, "profile", source="ALL", onlyCurrent="1").content.decode()
    assert every.count('class="profile"') > 1
    assert only.count('class="profile"') == 1
    assert "Show every profile" in only


def test_identifiers_tab(ops_client):
    html = tab(ops_client, BUBALUS, "identifiers").content.decode()
    assert "1234512345" in html and "externalId" in html
    assert "★ primary" in html and "✗ not verified" in html
    assert "TRANS" in html and "BULK" in html and "OPTIN" in html


def test_groups_tab(ops_client):
    html = tab(ops_client, BUBALUS, "groups").content.decode()
    assert "Activity segment" in html and "Active" in html
    assert "NOT_FRAUD" in html
    assert f"/customers/{BUBALUS}/images/customer/0/?source=INSTORE" in html
    assert f"/customers/{BUBALUS}/images/associated/0/" in html
    assert "X-Amz" not in html  # the pre-signed URL stays on the server


def test_groups_paging(ops_client):
    customer = SHAPES["paged_groups"]
    html = tab(ops_client, customer, "groups").content.decode()
    assert "Groups 1–10 of 53" in html
    assert "ug2Offset=10" in html
    second = tab(ops_client, customer, "groups", ug2Offset="10", ug2Loyalty="1").content.decode()
    assert "Groups 11–20 of 53" in second
    assert "ug2Offset=0" not in second and "Previous" in second
    assert "pointsContributionToGroup" in second


def test_groups_filter_and_sort(ops_client, sandbox):
    customer = SHAPES["paged_groups"]
    response = tab(
        ops_client, customer, "groups", ug2From="2099-01-01", ug2SortBy="name", ug2SortOrder="ASC"
    )
    assert response.status_code == HTTPStatus.OK
    assert (
        "None: this customer is in no user group joined in those dates" in response.content.decode()
    )
    sent = [e for e in sandbox.stats()["embeds"] if "userGroup" in e]
    assert len(sent) == 1


def test_raw_tab_shows_parts_fetched(ops_client, sandbox):
    ops_client.get(f"/customers/{BUBALUS}/", INSTORE)
    tab(ops_client, BUBALUS, "identifiers")
    before = calls(sandbox)
    html = tab(ops_client, BUBALUS, "raw").content.decode()
    assert calls(sandbox) == before  # shows what was fetched; fetches nothing more
    assert f"GET /v2/customers/{BUBALUS}" in html
    assert "embed=subscriptions" in html and "embed=mlp" in html and "embed=points" in html
    assert "embed=segments" not in html  # the groups tab was never opened
    assert "&quot;firstName&quot;: &quot;Bubalus&quot;" in html  # pretty-printed
    assert "demo-password" not in html and "Authorization" not in html


def test_raw_tab_needs_the_role(agent_client):
    assert tab(agent_client, BUBALUS, "raw").status_code == HTTPStatus.FORBIDDEN


@pytest.mark.parametrize("shape", sorted(set(SHAPES) - {"no_instore"}))
@pytest.mark.parametrize("slug", MY_TABS)
def test_every_shape(ops_client, shape, slug):
    response = tab(ops_client, SHAPES[shape], slug)
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert f'data-tab="{slug}"' in html
    assert "<script>window.__xss" not in html and "<img src=x" not in html


@pytest.mark.parametrize("slug", MY_TABS)
def test_no_instore_shape_on_another_source(ops_client, slug):
    response = tab(ops_client, SHAPES["no_instore"], slug, source="WECHAT", accountId="wx-acc-1")
    assert response.status_code == HTTPStatus.OK


def test_hostile_is_escaped(ops_client):
    customer = SHAPES["hostile"]
    page = ops_client.get(f"/customers/{customer}/", INSTORE).content.decode()
    html = page + "".join(tab(ops_client, customer, s).content.decode() for s in MY_TABS)
    assert "<script>window.__xss" not in html
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html


def test_empty_customer_says_not_returned(ops_client):
    html = tab(ops_client, SHAPES["empty"], "groups").content.decode()
    assert "None: this customer is in no user group" in html


# --- upstream calls per tab --------------------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "embeds"),
    [
        ("profile", []),
        ("identifiers", [("subscriptions",)]),
        ("groups", [("associatedImages", "customerImage", "segments", "userGroup")]),
        ("raw", []),
    ],
)
def test_calls_per_tab(ops_client, sandbox, slug, embeds):
    ops_client.get(f"/customers/{BUBALUS}/", INSTORE)
    before = len(sandbox.stats()["embeds"])
    tab(ops_client, BUBALUS, slug)
    assert sorted(map(tuple, sandbox.stats()["embeds"][before:])) == embeds
    again = calls(sandbox)
    tab(ops_client, BUBALUS, slug)
    assert calls(sandbox) == again  # the second open is served from the cache


def test_failing_part_keeps_the_rest(ops_client, sandbox, monkeypatch):
    # Sandbox faults apply to every call for a customer; fail the one embed in the client.
    real = CapillaryClient.get_customer

    def flaky(client, query):
        if "subscriptions" in query.embed:
            raise UpstreamError("Subscriptions are down.", request_id="req-123", retryable=False)
        return real(client, query)

    monkeypatch.setattr(CapillaryClient, "get_customer", flaky)
    ops_client.get(f"/customers/{BUBALUS}/", INSTORE)  # the record is cached now
    response = tab(ops_client, BUBALUS, "identifiers")
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "Subscriptions are down." in html and "req-123" in html
    assert "Retry" in html and "refresh=1" in html
    assert "1234512345" in html  # the base part still shows


def test_refresh_bypasses_cache(ops_client, sandbox):
    tab(ops_client, BUBALUS, "identifiers")
    before = calls(sandbox)
    tab(ops_client, BUBALUS, "identifiers", refresh="1")
    assert calls(sandbox) == before + 1  # base and subscriptions, in one call


def test_refresh_refused(ops_client, sandbox, monkeypatch):
    tab(ops_client, BUBALUS, "identifiers")
    before = calls(sandbox)
    monkeypatch.setattr(services, "allow_refresh", lambda *args: False)
    response = tab(ops_client, BUBALUS, "identifiers", refresh="1")
    assert "Refresh limit reached" in response.content.decode()
    assert calls(sandbox) == before


@pytest.mark.parametrize(
    "params",
    [
        {"days": "-1"},
        {"days": "3651"},
        {"days": "1e3"},
        {"ug2Limit": "0"},
        {"ug2Limit": "101"},
        {"ug2Offset": "x"},
        {"ug2SortOrder": "SIDEWAYS"},
        {"ug2SortBy": "password"},
        {"ug2From": "2025-13-01"},
        {"ug2From": "2025-02-01", "ug2To": "2025-01-01"},
        {"onlyCurrent": "maybe"},
        {"ug2Loyalty": "2"},
        {"refresh": "yes please"},
    ],
)
def test_bad_options(ops_client, sandbox, params):
    response = tab(ops_client, BUBALUS, "groups", **params)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "can&#x27;t be made" in response.content.decode()
    assert calls(sandbox) == 0


@pytest.mark.parametrize("days", ["0", "1", "30", "3650"])
def test_good_days(ops_client, days):
    assert tab(ops_client, BUBALUS, "profile", days=days).status_code == HTTPStatus.OK


def test_failing_builder_shows_error_panel(ops_client, monkeypatch):
    from lookup import tabs

    def broken(ctx):
        raise RuntimeError("bug")

    monkeypatch.setitem(
        tabs.TAB_BY_SLUG, "cards", dataclasses.replace(tabs.TAB_BY_SLUG["cards"], build=broken)
    )
    response = tab(ops_client, BUBALUS, "cards")
    assert response.status_code == HTTPStatus.OK
    assert "could not be shown because of a dashboard error" in response.content.decode()


# --- images ------------------------------------------------------------------------------


def test_customer_image(ops_client):
    response = ops_client.get(f"/customers/{BUBALUS}/images/customer/0/", INSTORE)
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_associated_image(ops_client):
    response = ops_client.get(f"/customers/{BUBALUS}/images/associated/1/", INSTORE)
    assert response.status_code == HTTPStatus.OK
    assert response.content.startswith(b"\x89PNG")


@pytest.mark.parametrize("path", ["customer/9", "other/0"])
def test_image_not_there(ops_client, path):
    response = ops_client.get(f"/customers/{BUBALUS}/images/{path}/", INSTORE)
    assert response.status_code == HTTPStatus.NOT_FOUND


def test_image_too_large(ops_client, monkeypatch):
    from lookup.views import images

    monkeypatch.setattr(images, "MAX_BYTES", 10)
    response = ops_client.get(f"/customers/{BUBALUS}/images/customer/0/", INSTORE)
    assert response.status_code == HTTPStatus.BAD_GATEWAY


def test_image_needs_org_access(ops_client, sandbox):
    response = ops_client.get(f"/customers/{BUBALUS}/images/customer/0/", {**INSTORE, "org": "x"})
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert calls(sandbox) == 0


def test_image_needs_sign_in(client):
    response = client.get(f"/customers/{BUBALUS}/images/customer/0/", INSTORE)
    assert response.status_code == HTTPStatus.FOUND


# --- the viewer's time zone --------------------------------------------------------------


def test_time_zone_preference(ops_client, agent):
    html = tab(ops_client, BUBALUS, "profile").content.decode()
    assert "IST" in html  # the org's zone, Asia/Kolkata
    response = ops_client.post("/preferences/", {"time_zone": "America/New_York"})
    assert response.status_code == HTTPStatus.FOUND
    html = tab(ops_client, BUBALUS, "profile").content.decode()
    assert "IST" not in html and ("EST" in html or "EDT" in html)


def test_time_zone_preference_rejects_junk(ops_client):
    response = ops_client.post("/preferences/", {"time_zone": "Mars/Olympus"})
    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_header_refresh_brings_the_tab_along(ops_client, sandbox):
    ops_client.get(f"/customers/{BUBALUS}/", {**INSTORE, "tab": "identifiers"})
    before = calls(sandbox)
    response = ops_client.get(
        f"/customers/{BUBALUS}/", {**INSTORE, "tab": "identifiers", "refresh": "1"}, **HX
    )
    html = response.content.decode()
    assert 'id="tabpanel" hx-swap-oob="innerHTML"' in html and 'data-tab="identifiers"' in html
    assert html.count("fetched just now") == 2  # the header and the tab agree
    assert calls(sandbox) == before + 1  # header and tab parts, in one call


def test_refused_refresh_in_the_label(ops_client, sandbox, monkeypatch):
    tab(ops_client, BUBALUS, "identifiers")
    monkeypatch.setattr(services, "allow_refresh", lambda *args: False)
    response = tab(ops_client, BUBALUS, "identifiers", refresh="1")
    assert "refresh refused, limit reached" in response.content.decode()
