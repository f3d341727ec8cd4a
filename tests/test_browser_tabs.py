"""The customer page's tabs in real Chromium: clicks, URLs, history, keys, hostile data, small screens."""

from __future__ import annotations

import time

import pytest

from lookup.sandbox.data import SHAPES
from tests.conftest import TAB_SLUGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BUBALUS = 566881933


@pytest.fixture
def ops_page(request, agent):
    """The agent, allowed personal data and the raw response tab, then signed in.

    In that order: a change of permissions signs the user out everywhere.
    """
    from django.contrib.auth.models import Permission

    agent.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_pii", "view_raw_response"])
    )
    return request.getfixturevalue("signed_in_page")


def open_customer(page, live_server, customer_id=BUBALUS, query="source=INSTORE"):
    page.goto(f"{live_server.url}/customers/{customer_id}/?{query}")
    page.wait_for_selector("#tabpanel .tab-body")


def shows(page, slug: str) -> None:
    """Wait until the panel holds this tab and the tab is the selected one."""
    page.wait_for_selector(f"#tabpanel .tab-body[data-tab={slug}]")
    page.wait_for_selector(f"#tab-{slug}[aria-selected=true]")
    assert page.locator("[role=tab][aria-selected=true]").count() == 1


def images_loaded(page) -> bool:
    """Return once every image in the panel has loaded (polled: the CSP forbids eval).

    The deadline is generous: on a loaded machine the images may take seconds, and a
    test that waits for them passes as soon as they are there.
    """
    check = "() => [...document.querySelectorAll('#tabpanel img')].every(i => i.complete && i.naturalWidth > 0)"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if page.evaluate(check):
            return page.locator("#tabpanel img").count() > 0
        page.wait_for_timeout(100)
    return False


def test_each_tab_opens_by_click(ops_page, live_server, screenshot):
    page = ops_page
    open_customer(page, live_server)
    shows(page, "profile")
    for slug in TAB_SLUGS:
        page.click(f"#tab-{slug}")
        shows(page, slug)
        panel = page.locator("#tabpanel")
        assert panel.is_visible()
        assert panel.inner_text().strip()
        # The panel may already show the tab (Profile): wait for the pushed URL itself.
        page.wait_for_url(f"**/tabs/{slug}/**")
        assert page.get_attribute("#tabpanel", "aria-labelledby") == f"tab-{slug}"
        if slug == "groups":  # the images come through the dashboard's own URL
            assert images_loaded(page)
        screenshot(f"tab-{slug}")


def test_deep_link_and_tab_url(ops_page, live_server):
    page = ops_page
    open_customer(page, live_server, query="source=INSTORE&tab=cards")
    shows(page, "cards")
    page.goto(f"{live_server.url}/customers/{BUBALUS}/tabs/groups/?source=INSTORE")
    shows(page, "groups")
    page.reload()
    shows(page, "groups")


def test_back_and_forward(ops_page, live_server):
    page = ops_page
    open_customer(page, live_server)
    page.click("#tab-identifiers")
    shows(page, "identifiers")
    page.click("#tab-groups")
    shows(page, "groups")
    page.go_back()
    shows(page, "identifiers")
    page.go_back()
    shows(page, "profile")
    page.go_forward()
    shows(page, "identifiers")
    page.go_forward()
    shows(page, "groups")


def test_keyboard(ops_page, live_server):
    page = ops_page
    open_customer(page, live_server)
    page.focus("#tab-profile")
    page.keyboard.press("ArrowRight")
    shows(page, "identifiers")
    assert page.evaluate("document.activeElement.id") == "tab-identifiers"
    assert page.get_attribute("#tab-identifiers", "tabindex") == "0"
    assert page.get_attribute("#tab-profile", "tabindex") == "-1"
    page.keyboard.press("ArrowLeft")
    shows(page, "profile")
    page.keyboard.press("End")
    shows(page, "raw")
    assert page.evaluate("document.activeElement.id") == "tab-raw"
    page.keyboard.press("Home")
    shows(page, "profile")
    page.keyboard.press("ArrowLeft")  # wraps round to the last tab
    shows(page, "raw")


def test_groups_paging_stays_in_the_tab(ops_page, live_server):
    page = ops_page
    open_customer(page, live_server, SHAPES["paged_groups"], "source=INSTORE&tab=groups")
    page.click("a[rel=next]")
    page.wait_for_selector("text=Groups 11–20 of 53")
    assert "ug2Offset=10" in page.url
    page.go_back()
    page.wait_for_selector("text=Groups 1–10 of 53")


def test_hostile_customer_never_runs_script(ops_page, live_server):
    page = ops_page
    open_customer(page, live_server, SHAPES["hostile"])
    for slug in TAB_SLUGS:
        page.click(f"#tab-{slug}")
        shows(page, slug)
    page.go_back()
    page.wait_for_timeout(200)
    assert page.dialogs == []
    assert page.evaluate("window.__xss") is None


def test_small_screen(ops_page, live_server, screenshot):
    page = ops_page
    page.set_viewport_size({"width": 360, "height": 780})
    open_customer(page, live_server)
    for slug in TAB_SLUGS:
        page.click(f"#tab-{slug}")
        shows(page, slug)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{slug} overflows by {overflow}px at 360 px"
        screenshot(f"tab-{slug}-360")


def test_progress_bars_show_their_values(signed_in_page, live_server, screenshot):
    page = signed_in_page
    open_customer(page, live_server, customer_id=565261498, query="source=INSTORE&tab=upgrade")
    shows(page, "upgrade")
    bar = page.locator("progress.rec-bar").first
    assert bar.is_visible()
    # Tom Sawyer: 10,200 of 25,000 in purchases.
    assert bar.evaluate("el => el.value") == pytest.approx(40.8)
    assert "10,200 of 25,000 in purchases" in page.locator("#tabpanel").inner_text()
    page.click("text=+30 days")
    page.wait_for_url("**days=30**")
    page.wait_for_selector("text=Projected 30 days ahead")
    values = page.locator("progress.rec-bar").evaluate_all("els => els.map(e => e.value)")
    assert values and all(0 <= v <= 100 for v in values)
    screenshot("upgrade-projected-30-days")
