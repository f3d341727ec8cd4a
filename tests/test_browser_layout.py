"""The customer page's layout in Chromium at a phone's 390 px and a laptop's 1366 px.

These read the rendered layout (sizes, positions, colours), not only the DOM.
"""

from __future__ import annotations

import time

import pytest

from lookup import roles
from lookup.models import AuditRecord
from lookup.sandbox.data import SHAPES
from tests.conftest import CELLS_NARROWER_THAN_A_WORD, LAPTOP, PHONE, TAB_SLUGS, TOO_WIDE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BUBALUS = SHAPES["seed_bubalus"]
MANY_CARDS = SHAPES["many_cards"]  # 19 cards
MANY_PROGRAMS = SHAPES["many_programs"]  # 4 programs
# Page height bounds for the 19-card customer's Cards tab, cards folded (measured about
# 1,500 px at 1366 and 2,400 px at 390 px when written; the bound leaves room for fonts).
CARDS_PAGE_HEIGHT = {1366: 2200, 390: 3400}

CONTRAST = """
(el) => {
  const rgb = (text) => text.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  let node = el, bg = null;
  while (node && node.nodeType === 1) {
    const c = rgb(getComputedStyle(node).backgroundColor);
    if (c.length < 4 || c[3] > 0) { bg = c; break; }
    node = node.parentElement;
  }
  const fg = lum(rgb(getComputedStyle(el).color)), back = lum(bg || [255, 255, 255]);
  return (Math.max(fg, back) + 0.05) / (Math.min(fg, back) + 0.05);
}
"""


def _until(page, expression: str, seconds: float = 15) -> None:
    """Wait until the expression is true (polled: the CSP forbids wait_for_function's eval)."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        page.wait_for_timeout(50)


def _open(page, live_server, customer: int, tab: str = "") -> None:
    url = f"{live_server.url}/customers/{customer}/?source=INSTORE"
    page.goto(url + (f"&tab={tab}" if tab else ""))
    page.wait_for_selector("#tabpanel .tab-body")


@pytest.mark.parametrize("size", [PHONE, LAPTOP], ids=["390", "1366"])
def test_cells_fit_their_words(sign_in, live_server, size):
    page = sign_in(roles.LOYALTY_OPS)
    page.set_viewport_size(size)
    for customer in (BUBALUS, MANY_CARDS):
        for slug in TAB_SLUGS:
            _open(page, live_server, customer, slug)
            bad = page.evaluate(CELLS_NARROWER_THAN_A_WORD, 160)
            assert bad == [], (customer, slug, size["width"], bad[:5])
            # Nothing but a scrolling box may be wider than the screen.
            too_wide = page.evaluate(TOO_WIDE, size["width"])
            assert too_wide == [], (customer, slug, too_wide)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= size["width"], (customer, slug, width)


@pytest.mark.parametrize("size", [PHONE, LAPTOP], ids=["390", "1366"])
def test_nineteen_cards_fit(sign_in, live_server, size, screenshot):
    page = sign_in(roles.CALL_CENTRE_AGENT)
    page.set_viewport_size(size)
    _open(page, live_server, MANY_CARDS, "cards")
    assert page.locator(".rec-cardrow").count() == 19
    assert page.locator(".rec-card-more:visible").count() == 0  # details on demand
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height <= CARDS_PAGE_HEIGHT[size["width"]], height
    screenshot(f"cards-table-{size['width']}")
    # Details open on demand, and the columns sort.
    page.locator("button.rec-more").first.click()
    assert page.locator(".rec-card-more:visible").count() == 1
    page.locator("th[data-sort-key=expiry] button").click()
    assert page.get_attribute("th[data-sort-key=expiry]", "aria-sort") == "ascending"
    days = page.eval_on_selector_all(".rec-cardrow", "rows => rows.map(r => r.dataset.expiry)")
    dated = [d for d in days if d]
    assert dated == sorted(dated) and days[: len(dated)] == dated


def test_header_rows_on_a_phone(sign_in, live_server, screenshot):
    page = sign_in(roles.CALL_CENTRE_AGENT)
    page.set_viewport_size(PHONE)
    _open(page, live_server, MANY_PROGRAMS)
    rows = page.locator(".standing-row")
    assert rows.count() == 4
    for n in range(4):
        text = rows.nth(n).inner_text()
        assert " in " in text and "points" in text
        assert "to go" in text or "reached" in text or "Top tier" in text
    # Name, tier, points and the gap for every program, without scrolling.
    assert page.evaluate("window.scrollY") == 0
    bottom = rows.nth(3).evaluate("el => el.getBoundingClientRect().bottom + window.scrollY")
    assert bottom <= PHONE["height"], bottom
    # The top bar is one row; the tab strip says it scrolls.
    bar = page.locator(".topbar").evaluate(
        "el => [el.scrollWidth - el.clientWidth, el.clientHeight]"
    )
    assert bar[0] <= 0 and bar[1] < 56, bar  # one row, nothing scrolled out of sight
    assert "more-right" in page.get_attribute(".tabs-wrap", "class")
    assert page.locator(".tabs-hint").is_visible()
    page.screenshot(path=screenshot("phone-view"))  # the first screen, as the phone shows it


def test_header_at_desk(sign_in, live_server, screenshot):
    page = sign_in(roles.CALL_CENTRE_AGENT)
    page.set_viewport_size(LAPTOP)
    _open(page, live_server, BUBALUS)
    row = page.locator(".standing-row").first
    assert "Ruby: 28,650 in purchases to go" in row.inner_text()
    assert page.locator(".standing-row progress.gap-bar").count() == 1
    assert page.locator(".customer-header").get_by_text("5 cards: 5 active").is_visible()
    page.locator(".customer-top").screenshot(path=screenshot("header"))


def test_copy_button_is_readable(sign_in, live_server):
    page = sign_in(roles.CALL_CENTRE_AGENT)
    _open(page, live_server, BUBALUS, "identifiers")
    button = page.locator(".pii-copy").first
    assert button.evaluate(CONTRAST) >= 4.5


def test_focus_after_reveal_and_one_reason(sign_in, live_server):
    page = sign_in(roles.CALL_CENTRE_AGENT)
    _open(page, live_server, BUBALUS, "identifiers")
    widgets = page.locator(".pii:has(form.pii-reveal)")
    assert widgets.count() >= 2
    widgets.first.locator("input[name=reason]").fill("ticket 77")
    widgets.first.locator("button.reveal").click()
    page.locator(".pii-value.revealed").first.wait_for()
    _until(page, "document.activeElement.classList.contains('revealed')")
    # The next reveal on this page view asks for no reason again.
    second = page.locator(".pii:has(form.pii-reveal)").first
    assert not second.locator("input[name=reason]").is_visible()
    second.locator("button.reveal").click()
    _until(page, "document.querySelectorAll('.pii-value.revealed').length === 2")
    reasons = set(AuditRecord.objects.filter(action="reveal").values_list("reason", flat=True))
    assert reasons == {"ticket 77"}


def test_focus_after_projection(sign_in, live_server):
    page = sign_in(roles.CALL_CENTRE_AGENT)
    _open(page, live_server, BUBALUS, "upgrade")
    page.locator("#projection-1").click()
    page.wait_for_selector("#projection-1[aria-current=true]")
    _until(page, "document.activeElement && document.activeElement.id === 'projection-1'")
    page.fill("#rec-days-input", "99999")
    page.press("#rec-days-input", "Enter")
    error = page.locator("#rec-days-error")
    error.wait_for(state="visible")
    assert "from 0 to 3650" in error.inner_text()
    assert page.evaluate("document.activeElement.id") == "rec-days-input"


def test_arrow_keys_keep_one_history_entry(sign_in, live_server):
    page = sign_in(roles.CALL_CENTRE_AGENT)
    _open(page, live_server, BUBALUS)
    before = page.evaluate("history.length")
    page.focus("#tab-profile")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    page.wait_for_selector("#tabpanel .tab-body[data-tab=cards]")
    _until(page, "location.pathname.endsWith('/tabs/cards/')")
    assert page.evaluate("history.length") == before
    tabs = AuditRecord.objects.filter(action="tab").values_list("detail", flat=True)
    assert list(tabs) == ["cards"]  # not one per tab passed over
