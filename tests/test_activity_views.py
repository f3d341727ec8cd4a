"""The Activity tab's panels: one cached part each, per-panel failure, masking, audit, stores."""

from __future__ import annotations

import re
from http import HTTPStatus

import pytest

from lookup import roles, services
from lookup.capillary import activity as q
from lookup.models import AuditRecord, OrgAccess
from lookup.sandbox import activity as sandbox_activity

TYPICAL = 100_000_000
HX = {"HTTP_HX_REQUEST": "true"}


def panel(client, name, customer_id=TYPICAL, **params):
    return client.get(f"/customers/{customer_id}/activity/{name}/", params, **HX)


def test_tab_fetches_nothing(agent_client, sandbox):
    response = agent_client.get(f"/customers/{TYPICAL}/tabs/activity/", **HX)
    assert response.status_code == HTTPStatus.OK
    body = response.content.decode()
    assert 'hx-trigger="load"' in body and f"/customers/{TYPICAL}/activity/ledger/" in body
    assert (
        sum(sandbox.activity_calls(p) for p in ("transactions", "coupons", "ledger", "goodwill"))
        == 0
    )


def test_first_paint_fetches_no_activity(agent_client, sandbox):
    response = agent_client.get(f"/customers/{TYPICAL}/?tab=activity")
    assert response.status_code == HTTPStatus.OK
    assert sandbox.activity_calls("ledger") == 0


@pytest.mark.parametrize("name", ["transactions", "coupons", "ledger", "goodwill"])
def test_one_call_per_panel_then_cached(agent_client, sandbox, name):
    first = panel(agent_client, name)
    assert first.status_code == HTTPStatus.OK
    assert first["Vary"] and "HX-Request" in first["Vary"]
    panel(agent_client, name)
    assert sandbox.activity_calls(name, TYPICAL) == 1


def test_timeline_costs_one_call_per_panel_not_cached(agent_client, sandbox):
    panel(agent_client, "ledger")
    response = panel(agent_client, "timeline")
    assert response.status_code == HTTPStatus.OK
    for name in ("transactions", "coupons", "ledger", "goodwill"):
        assert sandbox.activity_calls(name, TYPICAL) == 1
    # And the panels opened after it come from the cache.
    for name in ("transactions", "coupons", "goodwill"):
        panel(agent_client, name)
        assert sandbox.activity_calls(name, TYPICAL) == 1


def test_past_freshness_shown_at_once_and_refreshed_behind(agent_client, sandbox, clock, settings):
    settings.CACHE_FRESH_OVERRIDES = {"activity.goodwill": 30}
    panel(agent_client, "goodwill")
    clock.advance(31)
    sandbox.set_latency(60_000)  # were the viewer waiting on this call, the page would hang
    try:
        body = panel(agent_client, "goodwill").content.decode()
    finally:
        sandbox.set_latency(0)
    assert "refreshing in the background" in body
    assert services.wait_for_refreshes(timeout=120)
    assert sandbox.activity_calls("goodwill", TYPICAL) == 2
    assert "refreshing in the background" not in panel(agent_client, "goodwill").content.decode()


def test_paging(agent_client, sandbox):
    first = panel(agent_client, "transactions").content.decode()
    assert "Bills 1–20 of" in first and "Older" in first
    second = panel(agent_client, "transactions", offset="20").content.decode()
    assert "Bills 21–" in second and "Newer" in second
    assert sandbox.activity_calls("transactions", TYPICAL) == 2  # each page is its own part


def test_bad_filter(agent_client):
    assert panel(agent_client, "transactions", type="LOTTERY").status_code == HTTPStatus.BAD_REQUEST
    assert panel(agent_client, "transactions", offset="-1").status_code == HTTPStatus.BAD_REQUEST


def test_not_interested_bill_says_why(agent_client):
    body = panel(agent_client, "transactions", type="NOT_INTERESTED", offset="0").content.decode()
    pages = [body] + [
        panel(agent_client, "transactions", type="NOT_INTERESTED", offset=str(o)).content.decode()
        for o in (20, 40)
    ]
    assert any("declined loyalty" in page for page in pages)


def test_panel_failure_is_its_own(agent_client, sandbox):
    sandbox.set_activity_fault(TYPICAL, "coupons", 503)
    failed = panel(agent_client, "coupons").content.decode()
    assert "could not be loaded" in failed and "Retry" in failed
    assert "could not be loaded" not in panel(agent_client, "goodwill").content.decode()
    timeline = panel(agent_client, "timeline").content.decode()
    assert "Coupons" in timeline and "the timeline leaves it out" in timeline
    assert "Why the balance is what it is" in timeline


def test_retry_after_failure(agent_client, sandbox):
    sandbox.set_activity_fault(TYPICAL, "goodwill", 500)
    assert "could not be loaded" in panel(agent_client, "goodwill").content.decode()
    sandbox.set_activity_fault(TYPICAL, "goodwill", None)
    assert (
        "could not be loaded" not in panel(agent_client, "goodwill", refresh="1").content.decode()
    )


def test_codes_masked_for_agents_with_reveal(as_role, sandbox):
    client = as_role(roles.CALL_CENTRE_AGENT)
    body = panel(client, "coupons").content.decode()
    from lookup.sandbox.activity import build_activity
    from lookup.sandbox.data import today_utc

    code = build_activity(TYPICAL, today_utc()).coupons[0]["code"]
    assert code not in body
    assert "Reveal" in body
    import re

    ref = re.search(r'name="ref" value="([^"]+)"', body).group(1)
    revealed = client.post(
        f"/customers/{TYPICAL}/reveal/?source=INSTORE", {"ref": ref, "reason": "ticket 12"}, **HX
    )
    assert code in revealed.content.decode()
    assert AuditRecord.objects.filter(action="reveal", detail__contains="code").exists()
    assert sandbox.activity_calls("coupons", TYPICAL) == 1  # the reveal read the cached part


def test_codes_clear_for_loyalty_ops(as_role):
    from lookup.sandbox.activity import build_activity
    from lookup.sandbox.data import today_utc

    client = as_role(roles.LOYALTY_OPS)
    code = build_activity(TYPICAL, today_utc()).coupons[0]["code"]
    assert code in panel(client, "coupons").content.decode()


def test_every_panel_view_is_audited(agent_client):
    panel(agent_client, "ledger")
    record = AuditRecord.objects.get(detail="activity:ledger")
    assert record.customer_id == TYPICAL and record.outcome == "ok"


def test_store_limited_manager(as_role, org, sandbox):
    client = as_role(roles.STORE_MANAGER)
    OrgAccess.objects.filter(org=org).update(store_codes="doc123")
    body = panel(client, "transactions").content.decode()
    assert "DocStore" in body
    assert "Mumbai Central" not in body and "Bangalore Indiranagar" not in body
    assert "of other stores on this page not shown" in body


def test_bill_line_items_only_for_this_customer(agent_client):
    bill_id = TYPICAL * sandbox_activity.BILL_ID_SPAN + 1
    ok = agent_client.get(f"/customers/{TYPICAL}/activity/bills/{bill_id}/", **HX)
    assert ok.status_code == HTTPStatus.OK and "sku_" in ok.content.decode()
    other = agent_client.get(f"/customers/{TYPICAL + 1}/activity/bills/{bill_id}/", **HX)
    assert other.status_code == HTTPStatus.NOT_FOUND


def test_plain_get_gets_a_page(agent_client):
    response = agent_client.get(f"/customers/{TYPICAL}/activity/goodwill/")
    assert response.status_code == HTTPStatus.OK
    assert "<html" in response.content.decode().lower()


def test_raw_answer_for_loyalty_ops_only(as_role):
    ops = panel(as_role(roles.LOYALTY_OPS), "goodwill").content.decode()
    assert "Raw answer" in ops and "goodwillRequest" in ops
    assert AuditRecord.objects.filter(action="raw", detail="activity:goodwill").exists()
    agent = panel(as_role(roles.CALL_CENTRE_AGENT), "goodwill").content.decode()
    assert "Raw answer" not in agent


def test_points_transfers_beside_the_ledger(agent_client, sandbox):
    with_transfers = TYPICAL + 11 - TYPICAL % 11  # the sandbox's customers with transfers
    body = panel(agent_client, "ledger", with_transfers).content.decode()
    assert "Received from" in body and "Sent to" in body
    assert "No points transfers." in panel(agent_client, "ledger", TYPICAL + 1).content.decode()
    assert sandbox.activity_calls("transfers", TYPICAL + 1) == 1
    panel(agent_client, "ledger", TYPICAL + 1)
    assert sandbox.activity_calls("transfers", TYPICAL + 1) == 1  # "none" is cached too


def test_date_filter_is_sent_upstream(agent_client):
    import re

    everything = panel(agent_client, "transactions").content.decode()
    total = int(re.search(r"of (\d+), newest first", everything).group(1))
    some = panel(agent_client, "transactions", **{"from": "2000-01-01", "to": "2000-12-31"})
    assert "No bills match this filter" in some.content.decode()
    assert total > 0
    bad = panel(agent_client, "transactions", **{"from": "2025-02-01", "to": "2025-01-01"})
    assert bad.status_code == HTTPStatus.BAD_REQUEST


def test_bill_by_number_only_this_customers(agent_client, sandbox):
    url = f"/customers/{TYPICAL}/activity/bills/"
    mine = agent_client.get(url, {"number": "B00000-001"}, **HX)
    assert mine.status_code == HTTPStatus.OK and "sku_" in mine.content.decode()
    # The same number exists for another customer: not shown here.
    other = agent_client.get(
        f"/customers/{TYPICAL + 1}/activity/bills/", {"number": "B00000-001"}, **HX
    )
    assert "No bill numbered B00000-001 for this customer" in other.content.decode()
    assert "sku_" not in other.content.decode()
    assert agent_client.get(url, {"number": ""}, **HX).status_code == HTTPStatus.BAD_REQUEST


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("0.000", "0"),
        ("12400.0", "12,400"),
        (2929.5, "2,929.50"),
        ("12.125", "12.125"),
        ("-350.500", "-350.50"),
        ("1234567", "1,234,567"),
        ("abc", "abc"),
        (None, "—"),
    ],
)
def test_amount_filter(value, shown):
    from lookup.templatetags.lookup_tags import amount

    assert amount(value) == shown


def test_amounts_grouped_in_every_panel(agent_client):
    import re

    # Drop <time> elements and attributes: only the text a person reads.
    def text(name):
        body = panel(agent_client, name).content.decode()
        body = re.sub(r"<time[^>]*>.*?</time>", "", body)
        return re.sub(r"<[^>]+>", " ", body)

    timeline = text("timeline")
    assert re.search(r"amount \d{1,3}(,\d{3})+\.\d\d", timeline)
    for name in ("transactions", "ledger", "goodwill", "timeline"):
        # No number of five digits or more without separators (IDs and bill numbers aside).
        loose = re.findall(r"(?<![\w(.,-])\d{4,}(?:\.\d+)?(?![\w)-])", text(name))
        assert loose == [], (name, loose)


def test_transfer_counterparts_named(as_role):
    from lookup.sandbox.activity import build_activity
    from lookup.sandbox.data import today_utc

    customer = TYPICAL + 11 - TYPICAL % 11  # the sandbox's customers with transfers
    transfers = build_activity(customer, today_utc()).transfers
    received = next(t for t in transfers if t["transferType"] == "ADDITION")
    first = received["transferredFrom"]["firstName"]
    assert first  # the sandbox names the other side, as Capillary's examples do
    ops = panel(as_role(roles.LOYALTY_OPS), "ledger", customer).content.decode()
    assert first in ops and f"customer {received['fromEntityId']}" in ops
    agent = panel(as_role(roles.CALL_CENTRE_AGENT), "ledger", customer).content.decode()
    assert first not in agent and f"{first[0]}***" in agent
    assert f"customer {received['fromEntityId']}" in agent


def _other_store_bills(customer_id):
    from lookup.sandbox.activity import build_activity
    from lookup.sandbox.data import today_utc

    bills = build_activity(customer_id, today_utc()).bills
    others = {b["billNumber"] for b in bills if b["billingStore"]["code"] != "doc123"}
    mine = {b["billNumber"] for b in bills if b["billingStore"]["code"] == "doc123"}
    return others - mine, mine - others


def test_store_limited_manager_ledger_and_timeline(as_role, org, make_user, client):
    import re

    others, mine = _other_store_bills(TYPICAL)
    assert others and mine
    ops = panel(as_role(roles.LOYALTY_OPS), "timeline").content.decode()
    manager = as_role(roles.STORE_MANAGER)
    OrgAccess.objects.filter(org=org).update(store_codes="doc123")
    ledger = panel(manager, "ledger").content.decode()
    timeline = panel(manager, "timeline").content.decode()
    coupons = panel(manager, "coupons").content.decode()
    for body in (ledger, timeline, coupons):
        assert not [n for n in others if n in body]
        assert "Mumbai Central" not in body and "Bangalore Indiranagar" not in body
    assert "of other stores show only the points, not the bill or the store" in ledger
    assert "a bill at another store" in ledger and "a bill at another store" in timeline
    assert "of other stores not shown" in timeline
    assert any(n in ledger for n in mine)  # his own stores' bills are named
    # The points stay, so the balance is explained the same way to both viewers.
    sentence = re.compile(r"Why the balance is what it is:</strong> ([^<]+)")
    assert sentence.search(timeline).group(1) == sentence.search(ops).group(1)
    assert "Raw answer" not in timeline


def test_type_filter_across_pages(agent_client, sandbox):
    import re

    from lookup.sandbox.activity import build_activity
    from lookup.sandbox.data import today_utc

    bills = build_activity(TYPICAL, today_utc()).bills
    regular = [b["billNumber"] for b in bills if b["type"] == "REGULAR"]
    assert len(regular) > 20
    first = panel(agent_client, "transactions", type="REGULAR").content.decode()
    assert f"Regular bills 1–20 of {len(regular)}, newest first" in first
    assert re.findall(r"<td>(B\d{5}-\d{3})</td>", first) == regular[:20]
    older = re.search(r'href="([^"]+)"[^>]*>Older', first).group(1).replace("&amp;", "&")
    assert "type=REGULAR" in older and "offset=20" in older
    second = agent_client.get(older, **HX).content.decode()
    assert re.findall(r"<td>(B\d{5}-\d{3})</td>", second) == regular[20:40]
    assert "type=REGULAR" in re.search(r'href="([^"]+)"[^>]*>Newer', second).group(1)
    # The one return, wherever it falls in the list, is found on the first page of returns.
    returns = panel(agent_client, "transactions", type="RETURN").content.decode()
    assert "Return bills 1–1 of 1" in returns
    # Every page and type of one date range comes from one call.
    assert sandbox.activity_calls("transactions", TYPICAL) == 1


def test_type_filter_says_what_it_did_not_read():
    from types import SimpleNamespace

    from lookup.activity import panels

    bill = {"billNumber": "B1", "type": "REGULAR", "billingStore": {"code": "s1"}}
    data = SimpleNamespace(
        raw={"pagination": {"total": 1500}, "data": [bill, {**bill, "type": "RETURN"}]}
    )
    context = panels.transactions(data, panels.TransactionFilter(type="RETURN"), None)
    assert context["total"] == 1 and context["unread"] == 1498
    assert context["next_offset"] is None and context["shown_to"] == 1


FREQUENT = 100_000_030  # one in 13 shops often: 135 ledger events, more than one page


def _balances(body):
    import re

    rows = re.findall(r'<tr class="ledger-[^"]*">(.*?)</tr>', body, re.S)
    return [re.findall(r"<td>(.*?)</td>", row, re.S)[-1] for row in rows]


def _link(body, label):
    import re

    found = re.search(rf'<a href="([^"]+)"[^>]*>{label}</a>', body)
    return found.group(1).replace("&amp;", "&") if found else None


def test_ledger_pages(agent_client, sandbox):
    from lookup.sandbox.activity import build_activity
    from lookup.sandbox.data import cached_customer, today_utc
    from lookup.templatetags.lookup_tags import amount

    events = build_activity(FREQUENT, today_utc()).ledger
    balance = cached_customer(FREQUENT, today_utc()).points_summary["loyaltyPoints"]
    assert len(events) > 100
    first = panel(agent_client, "ledger", FREQUENT).content.decode()
    assert f"Events 1–100 of {len(events)}, newest first" in first
    assert f"worked back from the customer's balance, {amount(balance)}" in first
    assert _balances(first)[0] == amount(balance) and "Newer" not in first
    older = _link(first, "Older")
    assert "page=1" in older and "balance=" in older
    second = agent_client.get(older, **HX).content.decode()
    assert f"Events 101–{len(events)} of {len(events)}" in second
    # The ledger adds up from zero: after the oldest event, the balance is its own points.
    assert _balances(second)[-1] == amount(events[-1]["netPointsOnEvent"])
    assert _balances(second)[0] == amount(sum(float(e["netPointsOnEvent"]) for e in events[100:]))
    assert _link(second, "Older") is None
    newer = _link(second, "Newer")
    assert "page=" not in newer
    assert _balances(agent_client.get(newer, **HX).content.decode())[0] == amount(balance)
    # Each page its own cached part: one call each, however often it is opened.
    agent_client.get(older, **HX)
    assert sandbox.activity_calls("ledger", FREQUENT) == 2


def test_ledger_page_without_its_balance(agent_client):
    body = panel(agent_client, "ledger", FREQUENT, page="1").content.decode()
    assert "Balances are not shown: open this page from the first page" in body
    assert set(_balances(body)) == {"—"}
    tampered = panel(agent_client, "ledger", FREQUENT, page="1", balance="abc:def")
    assert tampered.status_code == HTTPStatus.BAD_REQUEST
    assert "damaged" in tampered.content.decode()
    for page in ("-1", "x", "1e3", "999999999"):
        assert panel(agent_client, "ledger", FREQUENT, page=page).status_code == 400


def test_ledger_balance_link_is_for_its_page(agent_client):
    first = panel(agent_client, "ledger", FREQUENT).content.decode()
    from urllib.parse import parse_qs, urlsplit

    token = parse_qs(urlsplit(_link(first, "Older")).query)["balance"][0]
    other = panel(agent_client, "ledger", FREQUENT, page="2", balance=token)
    assert other.status_code == HTTPStatus.BAD_REQUEST
    assert "another page or customer" in other.content.decode()


def test_timeline_says_it_reads_the_newest_page(agent_client):
    body = panel(agent_client, "timeline", FREQUENT).content.decode()
    assert "The ledger&#x27;s newest 100 of 135 events" in body
    assert "but the balance is" not in body


# --- the Raw response tab lists the Activity answers in the cache -----------------------------


def raw_tab(client, customer_id=TYPICAL):
    return client.get(f"/customers/{customer_id}/tabs/raw/", {"source": "INSTORE"}, **HX)


def upstream_calls(sandbox) -> int:
    """Return every call the sandbox answered: the record's and each activity endpoint's."""
    return sandbox.stats()["customer_calls"] + sum(
        sandbox.activity_calls(name) for name in q.PANELS
    )


def activity_entry(html: str, name: str) -> str:
    """Return the raw tab's entry of one Activity answer (its HTML up to the next entry)."""
    start = html.index(f'data-activity="{name}"')
    end = html.find("data-activity=", start + 1)
    return html[start : end if end > 0 else len(html)]


def test_raw_tab_says_activity_not_fetched(as_role, sandbox):
    client = as_role(roles.LOYALTY_OPS)
    client.get(f"/customers/{TYPICAL}/", {"source": "INSTORE"})  # the header's parts
    before = upstream_calls(sandbox)
    response = raw_tab(client)
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert upstream_calls(sandbox) == before
    assert "Activity answers" in html
    for name in ("transactions", "coupons", "ledger", "transfers", "goodwill"):
        assert "not fetched yet — open the Activity tab" in activity_entry(html, name)


def test_raw_tab_shows_an_opened_panels_answer(as_role, sandbox):
    client = as_role(roles.LOYALTY_OPS)
    client.get(f"/customers/{TYPICAL}/", {"source": "INSTORE"})
    panel(client, "ledger")  # the ledger and the transfers
    before = upstream_calls(sandbox)
    AuditRecord.objects.all().delete()
    html = raw_tab(client).content.decode()
    assert upstream_calls(sandbox) == before  # read from the cache, nothing fetched
    ledger = activity_entry(html, "ledger")
    assert "GET /v2/pointsLedger/getCustomerLedgerInfo?" in ledger
    assert f"identifierValue={TYPICAL}" in ledger and "limit=100" in ledger
    assert "fetched just now" in ledger
    assert re.search(r"Capillary request ID</dt><dd><code>[0-9a-f]{16,}</code>", ledger)
    assert "not fetched yet" not in ledger
    assert "\n  &quot;ledgerEntries&quot;: [" in ledger  # the JSON, pretty-printed
    transfers = activity_entry(html, "transfers")
    assert f"GET /v2/customers/{TYPICAL}/pointsTransfers" in transfers
    for name in ("transactions", "coupons", "goodwill"):
        assert "not fetched yet" in activity_entry(html, name)
    assert AuditRecord.objects.filter(action="raw", customer_id=TYPICAL).exists()


def test_raw_tab_shows_the_first_page_of_transactions(as_role, sandbox):
    client = as_role(roles.LOYALTY_OPS)
    panel(client, "transactions", offset="20")  # a later page is not the tab's first
    assert "not fetched yet" in activity_entry(raw_tab(client).content.decode(), "transactions")
    panel(client, "transactions")
    before = upstream_calls(sandbox)
    entry = activity_entry(raw_tab(client).content.decode(), "transactions")
    assert upstream_calls(sandbox) == before
    assert f"GET /v2/customers/{TYPICAL}/transactions?" in entry and "offset=0" in entry
    assert "&quot;billNumber&quot;: &quot;B" in entry and "\n  &quot;pagination&quot;: {" in entry


def test_raw_tab_activity_needs_the_role(as_role):
    ops = as_role(roles.LOYALTY_OPS)
    panel(ops, "goodwill")
    assert "goodwillRequest" in activity_entry(raw_tab(ops).content.decode(), "goodwill")
    for role in (roles.CALL_CENTRE_AGENT, roles.STORE_MANAGER):
        client = as_role(role)
        panel(client, "goodwill")
        response = raw_tab(client)
        assert response.status_code == HTTPStatus.FORBIDDEN
        assert "goodwillRequest" not in response.content.decode()
        page = client.get(f"/customers/{TYPICAL}/", {"source": "INSTORE", "tab": "raw"})
        assert "goodwillRequest" not in page.content.decode()


def test_raw_tab_activity_needs_personal_data(client, org, make_user, sandbox):
    # Raw rights without the right to see personal data: the record's parts come masked,
    # the Activity answers (which that masking does not know) not at all.
    from django.contrib.auth.models import Permission

    user = make_user("rawonly", None, org)
    user.user_permissions.add(Permission.objects.get(codename="view_raw_response"))
    client.force_login(user)
    panel(client, "goodwill")
    response = raw_tab(client)
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "GET /v2/customers/" in html and "Activity answers" not in html
    assert "goodwillRequest" not in html


def test_raw_activity_never_for_a_store_limited_viewer(as_role, org):
    # Capillary's answers list every store's bills: a viewer limited to some stores sees
    # none of them raw, in the panels or in the Raw response tab, whatever the role.
    client = as_role(roles.LOYALTY_OPS)
    OrgAccess.objects.filter(org=org).update(store_codes="doc123")
    body = panel(client, "ledger").content.decode()
    assert "Raw answer" not in body and "ledgerEntries" not in body
    html = raw_tab(client).content.decode()
    assert "GET /v2/customers/" in html  # the record's parts, as before
    assert "Activity answers" not in html and "ledgerEntries" not in html


def test_panel_raw_answer_needs_personal_data(client, org, make_user):
    from django.contrib.auth.models import Permission

    user = make_user("rawonly", None, org)
    user.user_permissions.add(Permission.objects.get(codename="view_raw_response"))
    client.force_login(user)
    body = panel(client, "goodwill").content.decode()
    assert "Raw answer" not in body and "goodwillRequest" not in body
