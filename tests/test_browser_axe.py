"""An axe-core accessibility scan of every customer tab, for every role, in Chromium.

axe-core comes from npm (package.json; `make install` runs `npm ci`). Injecting it needs
a script the Content-Security-Policy would refuse, so these pages alone bypass the CSP;
every other browser test runs under it.
"""

from __future__ import annotations

import os

import pytest

from lookup import roles
from tests.conftest import IN_CI, TAB_SLUGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = os.path.join(
    os.path.dirname(os.path.dirname(__file__)), "node_modules", "axe-core", "axe.min.js"
)
BUBALUS = 566881933
MANY_PROGRAMS = 100000001
WITH_ACTIVITY = 100000000  # bills, coupons, a ledger and goodwill requests
ROLES = (roles.STORE_MANAGER, roles.CALL_CENTRE_AGENT, roles.LOYALTY_OPS, roles.ADMIN)
# `inner` (optional) is a selector of boxes that scroll inside the page: axe cannot tell the
# background of text their edge cuts through, which is no contrast failure.
SCAN = """
async (inner) => {
  const result = await axe.run(document, { resultTypes: ["violations", "incomplete"] });
  const why = (n) => [...n.any, ...n.all, ...n.none].map((c) => c.message).join("; ");
  const say = (item) => item.id + ": " + item.help + " at " + item.nodes.slice(0, 3).map((n) => n.target.join(" ") + " (" + why(n) + ")").join(", ");
  const cutByInnerBox = (n) => {
    const el = inner && n.target.length === 1 && document.querySelector(n.target[0]);
    return Boolean(el && el.closest(inner)) && /^[^;]*partially obscured[^;]*$/.test(why(n));
  };
  const undecided = result.incomplete
    .filter((item) => item.id === "color-contrast")
    .map((item) => ({ ...item, nodes: item.nodes.filter((n) => !cutByInnerBox(n)) }))
    .filter((item) => item.nodes.length);
  return { violations: result.violations.map(say), contrast: undecided.map(say) };
}
"""


@pytest.fixture
def axe_page(chromium):
    if not os.path.exists(AXE):
        message = f"{AXE} is missing (make install runs npm ci)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


def _scan(page, inner: str | None = None) -> dict:
    page.add_script_tag(path=AXE)
    return page.evaluate(SCAN, inner)


def _sign_in(page, live_server, org, make_user, role):
    name = role.lower().replace(" ", "").replace("-", "")[:20]
    user = make_user(name, role, org)
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", name)
    page.fill("#id_password", f"{name}-pass-123")
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/")
    return user


@pytest.mark.parametrize("role", ROLES)
def test_every_tab_passes_axe(axe_page, live_server, org, make_user, sandbox, role):
    from lookup.access import may_open_tab

    page = axe_page
    user = _sign_in(page, live_server, org, make_user, role)
    found = {}
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for customer in (BUBALUS, MANY_PROGRAMS) if width > 600 else (MANY_PROGRAMS,):
            for slug in TAB_SLUGS:
                if not may_open_tab(user, slug):
                    continue
                page.goto(f"{live_server.url}/customers/{customer}/?source=INSTORE&tab={slug}")
                page.wait_for_selector("#tabpanel .tab-body")
                result = _scan(page)
                if result["violations"] or result["contrast"]:
                    found[(width, customer, slug)] = result
    assert found == {}


@pytest.mark.parametrize("role", ROLES)
def test_activity_tab_passes_axe(axe_page, live_server, org, make_user, sandbox, role):
    # The Activity tab's panels load after the page: scanned once all have, with a bill open.
    page = axe_page
    _sign_in(page, live_server, org, make_user, role)
    found = {}
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}/customers/{WITH_ACTIVITY}/?source=INSTORE&tab=activity")
        # The panels load in turn; goodwill is the last.
        page.wait_for_selector("#activity-goodwill tbody tr")
        page.locator("#activity-transactions").get_by_role("link", name="Line items").first.click()
        page.wait_for_selector("#activity-transactions .line-items")
        result = _scan(page, inner="ol.timeline")
        if result["violations"] or result["contrast"]:
            found[width] = result
    assert found == {}
