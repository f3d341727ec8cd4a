"""Browser tests of the search box: typing, the scanner's Enter, the chooser, shortcuts, copy."""

from __future__ import annotations

import time

import pytest

from lookup.sandbox.data import build_customer
from lookup.sandbox.identifiers import email_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shared_email_owner() -> int:
    return next(
        cid
        for cid in range(100000000, 100010000, 40)
        if not any(p["source"] == "MARTJACK" for p in build_customer(cid).base["profiles"])
    )


def test_phone_number_and_enter(signed_in_page, live_server, screenshot):
    page = signed_in_page
    box = page.locator("#find_q")
    assert box.get_attribute("autocomplete") == "off"
    box.fill("+91 98765 00042")
    screenshot("search-box")
    box.press("Enter")
    page.wait_for_url("**/customers/100000042/?source=INSTORE")
    assert "98765" not in page.url
    assert page.locator("h1").inner_text()


def test_scanner_types_and_presses_enter_in_the_top_bar(signed_in_page, live_server):
    page = signed_in_page
    page.goto(live_server.url + "/customers/566881933/?source=INSTORE")
    card = next(
        c["cardNumber"]
        for c in build_customer(100000008).base["cardDetails"]
        if c["statusInfo"]["status"] == "ACTIVE"
    )
    page.keyboard.press("/")  # focuses the top bar's box from anywhere
    page.keyboard.type(card + "\n", delay=5)
    page.wait_for_url("**/customers/100000008/?source=INSTORE")
    # The search was a POST: the history holds customer pages and no identifier.
    assert card not in page.evaluate("location.href")


def test_chooser_by_keyboard(signed_in_page, live_server, org, screenshot):
    org.search_every_source = True
    org.save()
    owner = _shared_email_owner()
    page = signed_in_page
    page.fill("#find_q", email_of(owner))
    page.keyboard.press("Enter")
    page.wait_for_selector("text=2 customers match")
    screenshot("search-chooser")
    first = page.locator("ol[data-chooser] [data-choice]").first
    assert first.evaluate("el => el === document.activeElement")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/customers/{owner + 15}/?source=MARTJACK")


def test_chooser_number_key(signed_in_page, live_server, org):
    org.search_every_source = True
    org.save()
    owner = _shared_email_owner()
    page = signed_in_page
    page.fill("#find_q", email_of(owner))
    page.keyboard.press("Enter")
    page.wait_for_selector("text=2 customers match")
    page.keyboard.press("1")
    page.wait_for_url(f"**/customers/{owner}/?source=INSTORE")


def test_shortcuts(signed_in_page, live_server, sandbox):
    page = signed_in_page
    page.goto(live_server.url + "/customers/566881933/?source=INSTORE")
    page.locator("body").click()
    page.keyboard.press("?")
    assert page.locator("#shortcuts").is_visible()
    assert "Alt" in page.locator("#shortcuts").inner_text()
    page.keyboard.press("Escape")
    assert not page.locator("#shortcuts").is_visible()
    page.keyboard.press("Alt+4")
    page.wait_for_selector("[role=tab][aria-selected=true]:has-text('Cards')")
    before = sandbox.stats()["customer_calls"]
    page.locator("body").click()
    page.keyboard.press("r")  # the header's Refresh: a new call to Capillary
    page.wait_for_function("() => !document.querySelector('[aria-busy=true]')", timeout=5000)
    deadline = time.monotonic() + 5
    while sandbox.stats()["customer_calls"] == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sandbox.stats()["customer_calls"] > before
    # Shortcuts never fire while typing: "?" and "/" go into the box.
    page.keyboard.press("/")
    page.keyboard.type("?/r")
    assert page.locator(".topbar-search input[name=q]").input_value() == "?/r"
    assert not page.locator("#shortcuts").is_visible()


def test_copy_buttons(page, live_server, agent, screenshot):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", "agent")
    page.fill("#id_password", "agent-pass-123")
    page.click("button[type=submit]")
    page.goto(live_server.url + "/customers/566881933/?source=INSTORE")
    page.click("button:has-text('Copy ID')")
    assert page.evaluate("navigator.clipboard.readText()") == "566881933"
    page.click("button:has-text('Copy summary')")
    text = page.evaluate("navigator.clipboard.readText()")
    assert text.startswith("Customer: ")
    assert "Customer ID: 566881933 · source INSTORE" in text


def test_name_suggestions(signed_in_page, live_server, org):
    org.name_search = True
    org.save()
    page = signed_in_page
    page.reload()
    page.locator("#find_q").press_sequentially("Bubal", delay=30)
    suggestion = page.locator("#name-suggestions a").first
    suggestion.wait_for()
    assert "566881933" in suggestion.inner_text()
    page.locator("#find_q").press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url("**/customers/566881933/?source=INSTORE")
