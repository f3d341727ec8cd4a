"""Browser tests: real Chromium through Playwright, asserting what a person sees."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_and_look_up(signed_in_page, live_server, screenshot):
    page = signed_in_page
    page.fill("#find_q", "566881933")
    page.keyboard.press("Enter")
    page.wait_for_url("**/customers/566881933/**")
    assert "Bubalus" in page.locator("h1").inner_text()
    assert page.get_by_text("naman_doc").first.is_visible()
    screenshot("customer-566881933")


def test_invalid_id_shows_inline_error(signed_in_page):
    page = signed_in_page
    page.click("summary:has-text('Look up by customer ID')")
    page.fill("#id_customer_id", "1/../2")
    page.click("button:has-text('Look up')")
    assert page.locator(".field-error").first.is_visible()
    assert "positive whole number" in page.locator(".field-error").first.inner_text()


def test_login_required(page, live_server):
    page.goto(live_server.url + "/customers/566881933/?source=INSTORE")
    assert "/login/" in page.url
    assert page.locator("h1").inner_text() == "Sign in"
