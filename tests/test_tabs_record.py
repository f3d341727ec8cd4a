"""The loyalty, cards and upgrade tabs rendered from real sandbox answers."""

from __future__ import annotations

import html
import re
from http import HTTPStatus

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from lookup import services
from lookup.capillary import CustomerQuery
from lookup.sandbox.data import SHAPES
from lookup.sandbox.faults import FAULT_IDS
from lookup.tabs import TAB_BY_SLUG, PageOptions, TabContext, part_query
from lookup.tabs.upgrade import NO_DOWNGRADE

TOM, BUBALUS = SHAPES["seed_tom_sawyer"], SHAPES["seed_bubalus"]
RECORD_TABS = ("loyalty", "cards", "upgrade")


def visible(markup: str) -> str:
    """Return the text a person reads: tags dropped, entities decoded, spaces collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", markup))).strip()


def render_tab(org, customer_id: int, slug: str, days: int = 0) -> str:
    """Fetch the tab's parts from the sandbox and render its template as the view would."""
    query = CustomerQuery(customer_id=customer_id, source="INSTORE")
    options = PageOptions(gap_days=days)
    queries = {name: part_query(query, name, options) for name in TAB_BY_SLUG[slug].parts}
    parts = services.fetch(org, queries)
    ctx = TabContext(
        org=org, query=query, options=options, tz=org.time_zone, parts=parts, org_param="sandbox"
    )
    base = ctx.data("base")
    context = {
        "org": org,
        "query": query,
        "options": options,
        "tz": ctx.tz,
        "parts": parts,
        "customer": base.customer if base else None,
        "ctx": ctx,
        "links": ctx.links,
        "tab": TAB_BY_SLUG[slug],
        "tab_refresh_url": "",
        **TAB_BY_SLUG[slug].build(ctx),
    }
    return render_to_string(f"lookup/tabs/{slug}.html", context)


@pytest.mark.parametrize("slug", RECORD_TABS)
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_shape(org, shape, slug):
    markup = render_tab(org, SHAPES[shape], slug)
    assert 'class="rec rec-' in markup
    # A section never sits empty: each says what it shows or that nothing came back.
    for section in re.findall(r"<section class=\"rec-section.*?</h2>(.*?)</section>", markup, re.S):
        assert visible(section)


def test_tom_sawyer_timeline(org):
    text = visible(render_tab(org, TOM, "loyalty"))
    assert "Group Loyalty Program" in text
    assert "UPGRADE Coral → Garnet" in text and "UPGRADE Topaz → Coral" in text
    assert 'class="rec-icon" data-icon="↑"' in render_tab(org, TOM, "loyalty")
    assert text.index("Coral → Garnet") < text.index("Topaz → Coral")  # newest first
    assert "DocStore (doc123)" in text
    assert "manual slab adjustment reason: Upgraded for achieving 1000 loyalty points" in text
    assert "Tier expiry never expires" in text
    assert "Next tier Ruby (tier 4)" in text
    assert "Lifetime purchases 10,200" in text


def test_loyalty_blocks(org):
    text = visible(render_tab(org, BUBALUS, "loyalty"))
    assert "Current (redeemable) 17,000" in text  # 22,135 earned - 5,000 redeemed - 135 expired
    assert "Tier Garnet (tier 3)" in text
    assert "Points expiry schedule" in text and "Customer promotions" in text
    assert "not returned" not in text.split("Tier timeline")[0]


def test_points_warning(org):
    text = visible(render_tab(org, FAULT_IDS["points_warning"], "loyalty"))
    assert "Points fetch failed: Capillary warning 8062 (Points details fetch failed)." in text
    assert "added up from the programs instead" in text


def test_tom_sawyer_upgrade(org):
    markup = render_tab(org, TOM, "upgrade")
    text = visible(markup)
    assert "Current points CURRENT_POINTS Value required 5,999" in text
    assert "not returned: customer is in the base tier, nothing to renew." in text
    assert "DowngradeTracker LINEITEM_COUNT MOVING_WINDOW Case1 5 DAYS" in text
    assert re.search(r"10,200 of 25,000 in purchases — 14,800 to go, by \d+ \w+ \d{4}", text)
    bars = re.findall(r'<progress class="rec-bar" max="100" value="([\d.]+)"', markup)
    assert bars and all(0 <= float(v) <= 100 for v in bars)
    assert "style=" not in markup  # the CSP forbids style attributes
    assert "Today's values (no projection)" in text


def test_projection_links(org):
    markup = render_tab(org, BUBALUS, "upgrade", days=30)
    assert "Projected 30 days ahead, to " in visible(markup)
    href = f"/customers/{BUBALUS}/tabs/upgrade/?source=INSTORE&amp;org=sandbox&amp;days=1"
    assert f'href="{href}" hx-get="{href}" hx-target="closest [role=tabpanel]"' in markup
    assert 'aria-current="true">+30 days</a>' in markup
    assert 'name="days" min="0" max="3650"' in markup


def test_no_downgrade(org):
    text = visible(render_tab(org, SHAPES["no_downgrade"], "upgrade"))
    assert NO_DOWNGRADE in text


def test_bubalus_cards(org):
    markup = render_tab(org, BUBALUS, "cards")
    text = visible(markup)
    assert "5 cards: 5 active" in text
    assert markup.count('class="rec-cardrow') == 5
    assert "mtest00000000067003" in text and "card series create new (mtest, series 195)" in text
    assert "custom_card_name TOM" in text and "vehicle_type Bike" in text
    assert "Transactions not allowed" in text and "Active and digital" in text
    assert "rutuja_capillary (TILL)" in text


def test_cards_stand_out(org):
    markup = render_tab(org, SHAPES["many_cards"], "cards")
    text = visible(markup)
    assert re.match(r"Cards \d+ cards: \d+ active, ", text)
    assert re.search(r"expiring (within 30 days|in \d+ days|today|tomorrow)", text)
    assert re.search(r"Expires in \d+ days", text)
    assert "SUSPENDED" in text and 'class="rec-cardrow rec-attention"' in markup
    first = markup.index('class="rec-cardrow')
    assert "ACTIVE" in markup[first : markup.index("</tr>", first)]  # active cards first


@pytest.mark.parametrize("slug", RECORD_TABS)
def test_hostile_strings_escaped(org, slug):
    markup = render_tab(org, SHAPES["hostile"], slug)
    assert "<script>window.__xss" not in markup
    assert "<img src=x" not in markup


def test_hostile_strings_shown(org):
    markup = render_tab(org, SHAPES["hostile"], "cards") + render_tab(
        org, SHAPES["hostile"], "loyalty"
    )
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in markup


@pytest.mark.parametrize("slug", RECORD_TABS)
def test_failed_parts(org, slug):
    text = visible(render_tab(org, FAULT_IDS["http_500"], slug))
    assert "could not be loaded" in text


def tab_url(customer_id: int, slug: str) -> str:
    return reverse("customer-tab", args=[customer_id, slug])


@pytest.mark.parametrize("slug", RECORD_TABS)
@pytest.mark.parametrize("customer_id", [TOM, BUBALUS, SHAPES["empty"], SHAPES["many_programs"]])
def test_view_fragment(agent_client, customer_id, slug):
    response = agent_client.get(tab_url(customer_id, slug), HTTP_HX_REQUEST="true")
    assert response.status_code == HTTPStatus.OK
    assert f'class="rec rec-{slug}' in response.content.decode()
    assert "HX-Request" in response.headers.get("Vary", "")


def test_view_whole_page(agent_client):
    response = agent_client.get(tab_url(TOM, "loyalty"))
    assert response.status_code == HTTPStatus.OK
    text = visible(response.content.decode())
    assert "Tom Sawyer" in text and "Coral → Garnet" in text


def test_view_projection(agent_client):
    url = tab_url(BUBALUS, "upgrade") + "?days=30"
    response = agent_client.get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == HTTPStatus.OK
    assert "Projected 30 days ahead, to " in visible(response.content.decode())


def test_expiry_chart(org):
    markup = render_tab(org, BUBALUS, "loyalty")
    bars = re.findall(r'<meter min="0" max="100" value="([\d.]+)"', markup)
    assert bars and max(float(v) for v in bars) == 100.0
    assert "style=" not in markup  # the CSP forbids style attributes


def test_expired_points_square_with_the_summary(org):
    text = visible(render_tab(org, BUBALUS, "loyalty"))
    assert "The points summary counts 135 expired; Capillary itemised none." in text
    text = visible(render_tab(org, TOM, "loyalty"))
    assert "These entries add up to 778.95 points, more than the 0 expired points" in text
