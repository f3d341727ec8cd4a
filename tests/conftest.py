"""Shared fixtures and constants: the sandbox as a real server, a loopback-only guard, users.

Test modules import nothing from each other: what two of them share lives here.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest

from lookup.sandbox.seeds import documented_text
from lookup.sandbox.server import SandboxConfig, SandboxServer

# In CI a service a test needs (Chromium, Redis) must be there: a missing one fails the test
# instead of skipping it.
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# The documented customer Bubalus bubalis, the usual subject of a lookup in the tests.
CUSTOMER = 566881933
# The customer page's tabs, in the order the page shows them.
TAB_SLUGS = ("profile", "identifiers", "loyalty", "cards", "upgrade", "groups", "raw")
_real_getaddrinfo = socket.getaddrinfo


def pytest_configure(config: pytest.Config) -> None:
    """Hash test passwords with MD5: PBKDF2's deliberate slowness costs a sign-in per user."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _loopback_only(host, *args, **kwargs):
    results = _real_getaddrinfo(host, *args, **kwargs)
    for family, _type, _proto, _canon, sockaddr in results:
        if family in (socket.AF_INET, socket.AF_INET6):
            address = ipaddress.ip_address(sockaddr[0].split("%")[0])
            if not address.is_loopback:
                raise AssertionError(f"a test tried to reach a non-loopback address: {host}")
    return results


class Clock:
    """A clock the test moves by hand: call it for the time, ``advance`` it to move on."""

    def __init__(self) -> None:
        self.t = time.time()

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """Return a `Clock` that the cache's freshness and the breaker's window follow."""
    from lookup.services import breaker, store

    fake = Clock()
    monkeypatch.setattr(store, "clock", fake)
    monkeypatch.setattr(breaker, "clock", fake)
    return fake


def calls(sandbox) -> int:
    """Return how many customer calls the sandbox has answered since its last reset."""
    return sandbox.stats()["customer_calls"]


@pytest.fixture(autouse=True)
def loopback_guard(monkeypatch):
    """Fail any connection a test makes to an address outside 127.0.0.0/8 and ::1."""
    monkeypatch.setattr(socket, "getaddrinfo", _loopback_only)


@pytest.fixture(scope="session")
def documented_customer() -> Callable[[int], dict[str, Any]]:
    """Return a function that parses a documented customer's response body, as the doc gives it.

    The bodies are the sandbox's own package data (lookup/sandbox/documented/), so the tests
    and the sandbox cannot drift apart. The ids are `lookup.sandbox.seeds.SEED_IDS`: 566881933 and 565261498.
    """

    def load(customer_id: int) -> dict[str, Any]:
        return json.loads(documented_text(customer_id))

    return load


@pytest.fixture(scope="session")
def sandbox():
    """Run the Capillary sandbox on a free loopback port for the whole session."""
    server = SandboxServer(SandboxConfig(host="127.0.0.1", port=0, timeout_seconds=5.0))
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _fresh_state(request):
    """Clear the cache and pooled clients, and sandbox faults, between tests."""
    from django.core.cache import cache

    from lookup import services
    from lookup.services import stats, upstream

    cache.clear()
    stats.forget_pending()
    services.forget_clients()
    upstream.forget_budgets()
    if "sandbox" in request.fixturenames:
        request.getfixturevalue("sandbox").reset()
    yield
    # A background refresh still running would write into the next test's cache.
    services.wait_for_refreshes()
    services.forget_clients()


@pytest.fixture
def org(db, sandbox):
    from lookup.models import Org

    org = Org(
        name="Sandbox org",
        slug="sandbox",
        base_url=sandbox.url,
        auth_mode=Org.AuthMode.BASIC,
        till_username="demo.till",
        oauth_key="demo-key",
        time_zone="Asia/Kolkata",
        deadline=3.0,
        read_timeout=2.0,
    )
    org.set_till_password("demo-password")
    org.set_oauth_secret("demo-secret")
    org.save()
    return org


@pytest.fixture
def agent(db, org, django_user_model):
    from lookup.models import OrgAccess

    user = django_user_model.objects.create_user("agent", password="agent-pass-123")
    OrgAccess.objects.create(user=user, org=org)
    return user


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def staff_client(client, org, django_user_model):
    """The test client signed in as an Admin-role user (staff) granted the sandbox org."""
    from django.contrib.auth.models import Group

    from lookup import roles
    from lookup.models import OrgAccess

    roles.ensure_groups()
    user = django_user_model.objects.create_user("staffer", password="staffer-pass-123")
    user.is_staff = True
    user.save()
    user.groups.add(Group.objects.get(name=roles.ADMIN))
    OrgAccess.objects.create(user=user, org=org)
    client.force_login(user)
    client.signed_in_as = user
    return client


@pytest.fixture
def make_user(db, django_user_model) -> Callable[..., Any]:
    """Return ``make_user(name, role=None, org=None, sources="")``, which creates a user.

    The user gets the role (a group) when one is given and, when an org is given, a grant to
    it limited to ``sources`` (empty: every source). The password is ``f"{name}-pass-123"``.
    """
    from django.contrib.auth.models import Group

    from lookup import roles
    from lookup.models import OrgAccess

    def make(name: str, role: str | None = None, org: Any = None, sources: str = "") -> Any:
        user = django_user_model.objects.create_user(name, password=f"{name}-pass-123")
        if role:
            roles.ensure_groups()  # a transactional (browser) test flushes the migration's groups
            user.groups.add(Group.objects.get(name=role))
        if org is not None:
            OrgAccess.objects.create(user=user, org=org, sources=sources)
        return user

    return make


@pytest.fixture
def as_role(client, org, make_user) -> Callable[..., Any]:
    """Return ``as_role(role, *, sources="", grant=True)``: the test client, signed in.

    Each call signs the client in as a new user of that role (None: no role), granted the
    sandbox org for ``sources`` unless ``grant`` is False.
    """

    def sign_in(role: str | None, *, sources: str = "", grant: bool = True) -> Any:
        name = (role or "norole").lower().replace(" ", "-").replace("-", "")[:20]
        client.force_login(make_user(name, role, org if grant else None, sources))
        return client

    return sign_in


@pytest.fixture(scope="session")
def redis_url() -> str:
    """Return the URL of the Redis the tests may use, once it has answered a PING.

    That is REDIS_URL, else redis://127.0.0.1:6379/15. When Redis does not answer, the test is
    skipped on a developer's machine, but fails in CI (CI=true) or when REDIS_URL was set.
    """
    import redis

    explicit = os.environ.get("REDIS_URL", "")
    url = explicit or "redis://127.0.0.1:6379/15"
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2) as client:
            client.ping()
    except (redis.exceptions.RedisError, OSError) as error:
        message = f"Redis at {url} does not answer ({error})"
        if IN_CI or explicit:
            pytest.fail(message)
        pytest.skip(message + "; set REDIS_URL to run these tests")
    return url


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """Return the URL of a PostgreSQL server the tests may create databases on.

    That is DATABASE_URL when it names PostgreSQL, else CI_DATABASE_URL, else the local
    server as the postgres user. When it does not answer, the test is skipped on a
    developer's machine, but fails in CI (CI=true).
    """
    import psycopg

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        url = os.environ.get("CI_DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres"
    try:
        with psycopg.connect(url, connect_timeout=3):
            pass
    except psycopg.Error as error:
        message = f"PostgreSQL at {url} does not answer ({str(error).strip()})"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message + "; set DATABASE_URL to a postgres:// URL to run these tests")
    return url


# A sample value for each URL parameter, so a test can open every view. A new parameter
# name fails `every_view` until it has samples here.
URL_SAMPLES = {
    "customer_id": ["566881933"],
    "slug": list(TAB_SLUGS),
    "kind": ["customer", "associated"],
    "index": ["0"],
    "org_id": ["{org}"],
    "pk": ["1"],
    "name": ["timeline", "transactions", "coupons", "ledger", "goodwill"],
    "transaction_id": ["566881933001"],
}


def _url_patterns(patterns, namespace=""):
    from django.urls import URLResolver

    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = ":".join(filter(None, [namespace, entry.namespace]))
            yield from _url_patterns(entry.url_patterns, inner)
        else:
            yield namespace, entry


@pytest.fixture
def every_view(org):
    """Return (URL name, path) for every route outside the admin, with sample arguments.

    The admin's own views all pass through `AdminSite.admin_view` and are tested apart.
    """
    import itertools

    from django.urls import get_resolver, reverse

    views = []
    for namespace, entry in _url_patterns(get_resolver().url_patterns):
        if namespace.split(":")[0] == "admin":
            continue
        assert entry.name, f"every route needs a name: {entry.pattern}"
        name = f"{namespace}:{entry.name}" if namespace else entry.name
        params = sorted(entry.pattern.regex.groupindex)
        missing = [param for param in params if param not in URL_SAMPLES]
        assert not missing, f"add sample values for {missing} ({name}) to URL_SAMPLES"
        choices = [[v.format(org=org.pk) for v in URL_SAMPLES[param]] for param in params]
        for values in itertools.product(*choices):
            views.append((name, reverse(name, kwargs=dict(zip(params, values, strict=True)))))
    return views


# The two widths the layout is read at: a phone's and a laptop's.
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}

# For every visible cell: the widest word in it (measured in the cell's own font) and the
# cell's content width. Words wider than MAX_WORD px (hashes, hostile strings) may break.
CELLS_NARROWER_THAN_A_WORD = """
(maxWord) => {
  const canvas = document.createElement("canvas").getContext("2d");
  const bad = [];
  for (const cell of document.querySelectorAll("#tabpanel td, #tabpanel th, .customer-top dd")) {
    if (!cell.offsetParent) continue;
    const style = getComputedStyle(cell);
    const inner = cell.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let text = walker.nextNode(); text; text = walker.nextNode()) {
      // Text no one sees (hidden, or visually hidden for screen readers) takes no room.
      if (!text.parentElement.offsetParent || text.parentElement.closest(".visually-hidden")) continue;
      canvas.font = getComputedStyle(text.parentElement).font;
      for (const word of text.textContent.split(/\\s+/)) {
        const width = canvas.measureText(word).width;
        // Canvas and layout measure a few per cent apart; a broken word is far narrower.
        if (width <= maxWord && width > inner * 1.08 + 1) {
          bad.push(`${word} (${Math.round(width)} px) in a ${Math.round(inner)} px cell`);
        }
      }
    }
  }
  return bad;
}
"""

# Elements reaching past the right edge of the screen, outside any scrolling box.
TOO_WIDE = """
(width) => [...document.querySelectorAll("body *")].filter((el) => {
  if (el.getBoundingClientRect().right <= width + 0.5) return false;
  for (let up = el.parentElement; up; up = up.parentElement) {
    const x = getComputedStyle(up).overflowX;
    if (x === "auto" || x === "scroll" || x === "hidden") return false;
  }
  return true;
}).slice(0, 5).map((el) => el.tagName + "." + el.className + " " + Math.round(el.getBoundingClientRect().right))
"""

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = os.path.join(
    os.path.dirname(os.path.dirname(__file__)), "test-artifacts", "screenshots"
)


@pytest.fixture(scope="session")
def chromium():
    """Launch Debian's Chromium headless through Playwright (fail in CI when missing)."""
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the
    # tests make around it are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs
    yield page
    context.close()


@pytest.fixture
def screenshot(page) -> Callable[[str], str]:
    """Return ``screenshot(name)``, which saves a full-page screenshot of the test's page.

    The file is test-artifacts/screenshots/<name>.png, for people to look at; it returns the path.
    """

    def save(name: str) -> str:
        os.makedirs(SCREENSHOTS, exist_ok=True)
        path = os.path.join(SCREENSHOTS, f"{name}.png")
        page.screenshot(path=path, full_page=True)
        return path

    return save


@pytest.fixture
def signed_in_page(page, live_server, agent):
    """A browser page signed in as the agent."""
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", "agent")
    page.fill("#id_password", "agent-pass-123")
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/")
    return page


@pytest.fixture
def sign_in(page, live_server, org, make_user, sandbox):
    """Return ``sign_in(role)``: the browser page, signed in through the form as a new user of that role.

    The page collects Content-Security-Policy violations in ``page.csp_violations``.
    """

    def as_role(role: str) -> object:
        name = role.lower().replace(" ", "").replace("-", "")[:20]
        make_user(name, role, org)
        violations: list[str] = []
        page.on(
            "console",
            lambda msg: (
                violations.append(msg.text) if "Content Security Policy" in msg.text else None
            ),
        )
        page.csp_violations = violations
        page.goto(live_server.url + "/login/")
        page.fill("#id_username", name)
        page.fill("#id_password", f"{name}-pass-123")
        page.click("button[type=submit]")
        page.wait_for_url(live_server.url + "/")
        return page

    return as_role
