"""In Chromium: reveal, the privacy switch, the audit pages, hostile data and the CSP."""

from __future__ import annotations

import pytest

from lookup import roles
from lookup.models import AuditRecord
from tests.conftest import CUSTOMER, TAB_SLUGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
HOSTILE_CUSTOMER = 100000007


def _customer(live_server, customer: int, tab: str = "") -> str:
    url = f"{live_server.url}/customers/{customer}/?source=INSTORE"
    return url + (f"&tab={tab}" if tab else "")


def test_privacy_switch(sign_in, live_server, screenshot):
    page = sign_in(roles.STORE_MANAGER)
    page.goto(_customer(live_server, CUSTOMER))
    switch = page.locator(".privacy-switch")
    assert switch.inner_text() == "Privacy off"
    page.keyboard.press("Alt+p")
    assert page.evaluate("document.documentElement.classList.contains('privacy-on')")
    assert switch.get_attribute("aria-pressed") == "true"
    heading = page.locator(".customer-header h1").first
    if heading.count():
        assert "blur" in heading.evaluate("el => getComputedStyle(el).filter")
    screenshot("privacy-switch-on")
    page.reload()  # remembered
    assert page.evaluate("document.documentElement.classList.contains('privacy-on')")
    switch.click()
    assert not page.evaluate("document.documentElement.classList.contains('privacy-on')")
    assert page.csp_violations == []


def test_masked_for_store_manager(sign_in, live_server):
    page = sign_in(roles.STORE_MANAGER)
    for tab in ("profile", "identifiers", "cards"):
        response = page.goto(_customer(live_server, CUSTOMER, tab))
        assert response.status == 200, tab
        text = page.content()
        assert "1234512345" not in text and "12341234" not in text
    assert page.locator("form.pii-reveal").count() == 0


def test_reveal(sign_in, live_server, screenshot):
    page = sign_in(roles.CALL_CENTRE_AGENT)
    page.goto(_customer(live_server, CUSTOMER, "identifiers"))
    widget = page.locator(".pii:has(form.pii-reveal)").first
    assert widget.count()
    masked = widget.locator(".pii-value").inner_text()
    assert "*" in masked
    widget.locator("input[name=reason]").fill("ticket 77")
    widget.locator("button.reveal").click()
    revealed = page.locator(".pii-value.revealed").first
    revealed.wait_for()
    assert "*" not in revealed.inner_text()
    screenshot("reveal")
    record = AuditRecord.objects.get(action="reveal")
    assert record.reason == "ticket 77" and record.username == "callcentreagent"
    page.reload()  # for this page view only
    assert page.locator(".pii-value.revealed").count() == 0
    assert page.csp_violations == []


def test_copy_copies_what_is_shown(sign_in, live_server):
    page = sign_in(roles.STORE_MANAGER)
    page.goto(_customer(live_server, CUSTOMER, "identifiers"))
    button = page.locator(".pii-copy").first
    assert button.count()
    shown = page.locator(".pii-value").first.inner_text()
    button.click()
    assert button.get_attribute("data-copied") == shown.strip()


def test_audit_pages(sign_in, live_server, screenshot):
    page = sign_in(roles.LOYALTY_OPS)
    page.goto(_customer(live_server, CUSTOMER))
    page.goto(live_server.url + "/audit/")
    assert page.locator("h1").inner_text() == "Audit trail"
    rows = page.locator(".audit-table tbody tr")
    assert rows.count() >= 1
    assert str(CUSTOMER) in rows.first.inner_text()
    page.fill("#id_customer", "1")
    page.click(".audit-filters button[type=submit]")
    page.wait_for_url("**/audit/?*customer=1*")
    assert "No records match." in page.locator(".audit-table").inner_text()
    assert page.locator("a.export").get_attribute("href").startswith("/audit/export.csv?")
    screenshot("audit-trail")
    assert page.csp_violations == []


def test_audit_forbidden_for_agents(sign_in, live_server):
    page = sign_in(roles.CALL_CENTRE_AGENT)
    response = page.goto(live_server.url + "/audit/")
    assert response.status == 403
    assert "Not allowed" in page.locator("h1").inner_text()


def test_hostile_data_runs_no_script(sign_in, live_server, screenshot):
    page = sign_in(roles.LOYALTY_OPS)
    for tab in TAB_SLUGS:
        response = page.goto(_customer(live_server, HOSTILE_CUSTOMER, tab))
        assert response.status == 200, tab
        page.wait_for_load_state("networkidle")
        assert page.evaluate("typeof window.__xss") == "undefined", tab
        assert page.dialogs == [], tab
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, f"{tab} overflows by {overflow}px"
    screenshot("hostile-customer")
