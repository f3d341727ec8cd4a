"""The Activity tab in real Chromium: panels load, transactions page, a bill opens, the timeline filters."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TYPICAL = 100_000_000
# The README's picture (docs/customer-page-activity.png) is a copy of this screenshot.
README_SHOT = "activity-readme"


def open_activity(page, live_server):
    page.goto(f"{live_server.url}/customers/{TYPICAL}/?source=INSTORE")
    page.wait_for_selector("#tabpanel .tab-body")
    page.click("#tab-activity")
    page.wait_for_selector("#activity-timeline .reconciliation")
    page.wait_for_selector("#activity-transactions .bill-row")
    page.wait_for_selector("#activity-coupons .coupon")
    page.wait_for_selector("#activity-ledger tbody tr")
    page.wait_for_selector("#activity-goodwill tbody tr")


def test_activity_tab(signed_in_page, live_server, screenshot):
    page = signed_in_page
    open_activity(page, live_server)
    assert "Why the balance is what it is" in page.inner_text("#activity-timeline")
    full_page = Path(screenshot("activity-tab"))
    # The README's picture: the tab's timeline and reconciliation, as a person first sees them.
    page.locator("#activity-timeline").scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -120)")
    page.screenshot(path=str(full_page.with_name(f"{README_SHOT}.png")))

    # Page through the transactions: older, then back to the newest.
    panel = page.locator("#activity-transactions")
    first_bill = panel.locator(".bill-row td").nth(1).inner_text()
    panel.get_by_role("link", name="Older").click()
    page.wait_for_selector("#activity-transactions >> text=Bills 21–")
    assert panel.locator(".bill-row td").nth(1).inner_text() != first_bill
    panel.get_by_role("link", name="Newer").click()
    page.wait_for_selector("#activity-transactions >> text=Bills 1–20")

    # Open a bill's line items in place.
    panel.get_by_role("link", name="Line items").first.click()
    page.wait_for_selector("#activity-transactions .line-items")
    assert "sku_" in panel.locator(".line-items").first.inner_text()


def test_timeline_filter_by_keyboard(signed_in_page, live_server):
    page = signed_in_page
    open_activity(page, live_server)
    timeline = page.locator("#activity-timeline")
    assert timeline.locator(".event-bill").count() > 0
    # Untick every kind but goodwill with the keyboard, then submit with Enter.
    for label in ("Bills", "Points", "Tier changes", "Coupons"):
        box = timeline.get_by_label(label, exact=True)
        box.focus()
        page.keyboard.press("Space")
    timeline.get_by_role("button", name="Show").focus()
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.querySelectorAll('#activity-timeline .event-bill').length === 0"
    )
    assert timeline.locator(".event-goodwill").count() > 0


def test_ledger_pages_in_place(signed_in_page, live_server):
    frequent = 100_000_030  # a ledger of two pages
    page = signed_in_page
    page.goto(f"{live_server.url}/customers/{frequent}/?source=INSTORE")
    page.wait_for_selector("#tabpanel .tab-body")
    page.click("#tab-activity")
    panel = page.locator("#activity-ledger")
    page.wait_for_selector("#activity-ledger >> text=Events 1–100 of 135")
    panel.get_by_role("link", name="Older").click()
    page.wait_for_selector("#activity-ledger >> text=Events 101–135 of 135")
    assert "Balances follow on from the page next to this one" in panel.inner_text()
    assert "/activity/ledger/" not in page.url  # swapped in place, not a new page
    panel.get_by_role("link", name="Newer").click()
    page.wait_for_selector("#activity-ledger >> text=Events 1–100 of 135")
