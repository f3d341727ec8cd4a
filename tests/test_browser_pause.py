"""Our own pause of calls to a failing Capillary, as an agent sees it in Chromium."""

from __future__ import annotations

import pytest

from lookup.capillary.errors import UpstreamError
from lookup.services import breaker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BUBALUS = 566881933


def _open_breaker(org) -> None:
    """Fail enough calls across enough customers for the window's rule to open it."""
    failure = UpstreamError("Capillary failed.", upstream_status=503)
    for customer in range(100, 112):
        breaker.record(org.pk, customer, failure, None)
    assert breaker.window(org.pk).state == "open"


@pytest.mark.parametrize("width", [390, 1366])
def test_the_pause_page_counts_down(signed_in_page, live_server, org, screenshot, width):
    page = signed_in_page
    page.set_viewport_size({"width": width, "height": 844 if width == 390 else 900})
    _open_breaker(org)
    page.goto(f"{live_server.url}/customers/{BUBALUS}/?source=INSTORE")
    text = page.inner_text("main")
    assert "We stopped calling Capillary for this org" in text
    assert "Capillary asks" not in text  # our pause, never Capillary's request
    countdown = page.locator("[data-countdown]")
    first = int(countdown.inner_text())
    assert 0 < first <= 30
    # The count goes down in the page, without a reload (the script is the site's own file).
    page.wait_for_function(
        f"() => Number(document.querySelector('[data-countdown]').textContent) < {first}",
        timeout=15000,
    )
    assert page.locator("a", has_text="Retry").is_visible()
    screenshot(f"pause-{width}")
