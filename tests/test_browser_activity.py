"""The Activity tab in real Chromium at a phone's 390 px and a laptop's 1366 px: panels load,
transactions page, a bill opens, the timeline filters, and each role's view fits the screen."""

from __future__ import annotations

from pathlib import Path

import pytest

from lookup import roles
from tests.conftest import CELLS_NARROWER_THAN_A_WORD, LAPTOP, PHONE, TOO_WIDE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TYPICAL = 100_000_000
SIZES = pytest.mark.parametrize("size", [PHONE, LAPTOP], ids=["390", "1366"])
# The README's picture (docs/customer-page-activity.png) is a copy of this screenshot.
README_SHOT = "activity-readme"
# The tab's own tables, which stack into labelled rows on a phone.
STACKED_TABLES = "#tabpanel .activity-table"


def open_activity(page, live_server):
    page.goto(f"{live_server.url}/customers/{TYPICAL}/?source=INSTORE")
    page.wait_for_selector("#tabpanel .tab-body")
    page.click("#tab-activity")
    page.wait_for_selector("#activity-timeline .reconciliation")
    page.wait_for_selector("#activity-transactions .bill-row")
    page.wait_for_selector("#activity-coupons .coupon")
    page.wait_for_selector("#activity-ledger tbody tr")
    # The goodwill panel loads last: its answer's settle runs app.js over the whole tab.
    page.wait_for_selector("#activity-goodwill tbody tr")


def assert_fits(page, width: int, where: str, tables: str | None = STACKED_TABLES) -> None:
    """Assert that the page does not scroll sideways and every cell holds its words; on a
    phone, that the `tables` stack into labelled rows."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width, where
    assert page.evaluate(TOO_WIDE, width) == [], where
    assert page.evaluate(CELLS_NARROWER_THAN_A_WORD, 160) == [], where
    if width < 600 and tables:
        found = page.eval_on_selector_all(
            tables,
            # Each visible table: its panel, whether it stacked, and whether every cell of a
            # column with a heading carries that heading as its label.
            """tables => tables.filter((t) => t.offsetParent).map((t) => [
                t.closest(".activity-panel").id,
                t.classList.contains("stacked"),
                [...t.tHead.rows[0].cells].every((th, i) => !th.textContent.trim() ||
                  [...t.tBodies[0].rows].filter((row) => row.cells.length > 1)
                    .every((row) => row.cells[i].dataset.label === th.textContent.trim())),
            ])""",
        )
        assert found, where
        assert all(stacked and labelled for _id, stacked, labelled in found), (where, found)


@SIZES
def test_activity_tab(sign_in, live_server, screenshot, size):
    page = sign_in(roles.CALL_CENTRE_AGENT)
    page.set_viewport_size(size)
    width = size["width"]
    open_activity(page, live_server)
    assert "Why the balance is what it is" in page.inner_text("#activity-timeline")
    assert_fits(page, width, "tab open")
    if width == LAPTOP["width"]:
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
    assert_fits(page, width, "second page")
    panel.get_by_role("link", name="Newer").click()
    page.wait_for_selector("#activity-transactions >> text=Bills 1–20")

    # Open a bill's line items in place.
    panel.get_by_role("link", name="Line items").first.click()
    page.wait_for_selector("#activity-transactions .line-items")
    assert "sku_" in panel.locator(".line-items").first.inner_text()
    assert_fits(page, width, "bill open")
    assert page.csp_violations == []


@SIZES
def test_timeline_filter_by_keyboard(sign_in, live_server, size):
    page = sign_in(roles.CALL_CENTRE_AGENT)
    page.set_viewport_size(size)
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
    assert_fits(page, size["width"], "timeline filtered")


@SIZES
def test_ledger_pages_in_place(sign_in, live_server, size):
    frequent = 100_000_030  # a ledger of two pages
    page = sign_in(roles.CALL_CENTRE_AGENT)
    page.set_viewport_size(size)
    page.goto(f"{live_server.url}/customers/{frequent}/?source=INSTORE")
    page.wait_for_selector("#tabpanel .tab-body")
    page.click("#tab-activity")
    panel = page.locator("#activity-ledger")
    page.wait_for_selector("#activity-ledger >> text=Events 1–100 of 135")
    panel.get_by_role("link", name="Older").click()
    page.wait_for_selector("#activity-ledger >> text=Events 101–135 of 135")
    assert "Balances follow on from the page next to this one" in panel.inner_text()
    assert "/activity/ledger/" not in page.url  # swapped in place, not a new page
    assert_fits(page, size["width"], "ledger's older page")
    panel.get_by_role("link", name="Newer").click()
    page.wait_for_selector("#activity-ledger >> text=Events 1–100 of 135")


# How each role's Activity tab differs: the first coupon's code masked (with or without
# Reveal), or clear beside each panel's raw answer.
ROLE_VIEWS = {
    roles.STORE_MANAGER: "manager",
    roles.CALL_CENTRE_AGENT: "agent",
    roles.LOYALTY_OPS: "ops",
}


@SIZES
@pytest.mark.parametrize("role", list(ROLE_VIEWS), ids=list(ROLE_VIEWS.values()))
def test_each_role_fits(sign_in, live_server, screenshot, size, role):
    from lookup.sandbox.activity import build_activity
    from lookup.sandbox.data import today_utc

    page = sign_in(role)
    page.set_viewport_size(size)
    open_activity(page, live_server)
    code = build_activity(TYPICAL, today_utc()).coupons[0]["code"]
    coupons = page.locator("#activity-coupons")
    shown = coupons.locator(".coupon .pii-value").first.inner_text()
    raw_answers = page.locator("#tabpanel details.raw-answer")
    if role == roles.LOYALTY_OPS:
        assert shown == code
        assert raw_answers.count() == 4  # transactions, coupons, ledger, goodwill
        # Opened, the longest raw answer scrolls inside its box, not the page.
        page.locator("#activity-ledger details.raw-answer summary").click()
        page.wait_for_selector("#activity-ledger details.raw-answer[open] pre")
    else:
        assert shown != code and shown.endswith(code[-4:])
        assert raw_answers.count() == 0
        reveal = coupons.locator("button.reveal")
        assert (reveal.count() > 0) == (role == roles.CALL_CENTRE_AGENT)
    screenshot(f"activity-{ROLE_VIEWS[role]}-{size['width']}")
    assert_fits(page, size["width"], ROLE_VIEWS[role])
    if role == roles.LOYALTY_OPS:
        # The Raw response tab lists the answers the panels fetched, read from the cache.
        page.click("#tab-raw")
        listed = page.locator("#tabpanel .raw-activity > details")
        listed.first.wait_for()
        assert listed.count() == 5 and page.locator(".raw-activity .raw-missing").count() == 0
        listed.first.locator("> summary").click()
        page.wait_for_selector("#tabpanel .raw-activity details[open] pre.raw-json")
        screenshot(f"activity-raw-{size['width']}")
        assert_fits(page, size["width"], "raw tab", tables=None)
