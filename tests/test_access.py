"""Who may open which URL: every customer URL by role and grant, refusals cost nothing."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.contrib.auth.models import Group

from lookup import roles
from lookup.models import AuditRecord
from tests.conftest import CUSTOMER, TAB_SLUGS

pytestmark = pytest.mark.django_db

PAGE = f"/customers/{CUSTOMER}/?source=INSTORE"
CUSTOMER_URLS = [
    PAGE,
    *(f"/customers/{CUSTOMER}/tabs/{slug}/?source=INSTORE" for slug in TAB_SLUGS),
    f"/customers/{CUSTOMER}/images/customer/0/?source=INSTORE",
]
OTHER_URLS = ["/", "/audit/", "/audit/export.csv"]
ROLE_NAMES = [roles.STORE_MANAGER, roles.CALL_CENTRE_AGENT, roles.LOYALTY_OPS, roles.ADMIN]


@pytest.fixture
def cache_spy(monkeypatch):
    """Record every read of Capillary data the dashboard makes from the cache.

    (Not the session's or the viewer's own entries: those say who is asking, not about whom.)
    """
    from django.core.cache import cache

    from lookup.services.store import NAMESPACE

    reads: list[str] = []
    real_get, real_get_many = cache.get, cache.get_many

    def note(keys: list[str]) -> None:
        reads.extend(key for key in keys if key.startswith(NAMESPACE))

    monkeypatch.setattr(cache, "get", lambda key, *a, **k: (note([key]), real_get(key, *a, **k))[1])
    monkeypatch.setattr(
        cache, "get_many", lambda keys, *a, **k: (note(keys), real_get_many(keys, *a, **k))[1]
    )
    return reads


def test_roles_created_by_migration():
    for name, perms in roles.ROLES.items():
        group = Group.objects.get(name=name)
        have = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        assert have == set(perms)


@pytest.mark.parametrize("url", [*CUSTOMER_URLS, *OTHER_URLS])
def test_anonymous_goes_to_sign_in(client, sandbox, url):
    response = client.get(url)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/login/")
    assert sandbox.stats()["customer_calls"] == 0


def test_anonymous_reveal_goes_to_sign_in(client, sandbox):
    response = client.post(f"/customers/{CUSTOMER}/reveal/?source=INSTORE", {"ref": "x"})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize(
    ("grant", "sources", "url_suffix"),
    [
        (False, "", ""),  # no grant to any org
        (True, "WECHAT", ""),  # granted another source only
        (True, "", "&org=nope"),  # an org that does not exist
    ],
    ids=["no-org", "other-source", "unknown-org"],
)
@pytest.mark.parametrize("url", [*CUSTOMER_URLS, f"/customers/{CUSTOMER}/reveal/?source=INSTORE"])
def test_denied_is_404_without_upstream_or_cache(
    as_role, sandbox, cache_spy, url, grant, sources, url_suffix
):
    client = as_role(roles.LOYALTY_OPS, sources=sources, grant=grant)
    target = url + url_suffix
    response = client.post(target, {"ref": "x"}) if "/reveal/" in url else client.get(target)
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert sandbox.stats()["customer_calls"] == 0
    assert cache_spy == []
    assert b"Traceback" not in response.content
    record = AuditRecord.objects.get()
    assert (record.action, record.outcome) == ("denied", "denied")
    assert record.customer_id == CUSTOMER
    assert record.requested_org == ("nope" if url_suffix else "")


def test_source_all_needs_a_grant_for_all(as_role, sandbox):
    client = as_role(roles.LOYALTY_OPS, sources="INSTORE")
    response = client.get(f"/customers/{CUSTOMER}/?source=ALL")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert sandbox.stats()["customer_calls"] == 0


@pytest.mark.parametrize("role", [*ROLE_NAMES, None])
def test_each_role_sees_the_page(as_role, sandbox, role):
    response = as_role(role).get(PAGE)
    assert response.status_code == HTTPStatus.OK
    assert "Bubalus" in response.content.decode()


# Who may open the raw response and the audit trail: loyalty ops and admins only.
OPS_ONLY = [
    (roles.STORE_MANAGER, HTTPStatus.FORBIDDEN),
    (roles.CALL_CENTRE_AGENT, HTTPStatus.FORBIDDEN),
    (None, HTTPStatus.FORBIDDEN),
    (roles.LOYALTY_OPS, HTTPStatus.OK),
    (roles.ADMIN, HTTPStatus.OK),
]


@pytest.mark.parametrize(("role", "status"), OPS_ONLY)
def test_raw_tab_by_role(as_role, sandbox, cache_spy, role, status):
    client = as_role(role)
    response = client.get(f"/customers/{CUSTOMER}/tabs/raw/?source=INSTORE", HTTP_HX_REQUEST="true")
    assert response.status_code == status
    page = client.get(PAGE + "&tab=raw")
    assert page.status_code == status
    if status == HTTPStatus.FORBIDDEN:
        assert sandbox.stats()["customer_calls"] == 0
        assert cache_spy == []
        assert AuditRecord.objects.filter(action="denied", detail="tab raw").count() == 2
    else:
        assert cache_spy  # the spy does see the reads of an allowed view


@pytest.mark.parametrize(("role", "status"), OPS_ONLY)
@pytest.mark.parametrize("url", ["/audit/", "/audit/export.csv"])
def test_audit_pages_by_role(as_role, role, status, url):
    response = as_role(role).get(url)
    assert response.status_code == status


def test_superuser_sees_every_org(client, org, django_user_model, sandbox):
    admin = django_user_model.objects.create_superuser("root", password="root-pass-123")
    client.force_login(admin)
    assert client.get(PAGE).status_code == HTTPStatus.OK
    assert client.get("/audit/").status_code == HTTPStatus.OK


def test_rate_limit(as_role, sandbox, settings):
    settings.LOOKUP_RATE_LIMIT = 2
    client = as_role(roles.STORE_MANAGER)
    for customer in (566881933, 565261498):
        assert client.get(f"/customers/{customer}/?source=INSTORE").status_code == HTTPStatus.OK
    calls = sandbox.stats()["customer_calls"]
    # The same customers again cost nothing against the limit; a third one is refused.
    assert client.get(PAGE).status_code == HTTPStatus.OK
    response = client.get("/customers/100000001/?source=INSTORE")
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert int(response["Retry-After"]) > 0
    assert "Too many lookups" in response.content.decode()
    assert sandbox.stats()["customer_calls"] == calls
    assert AuditRecord.objects.filter(outcome="rate_limited", customer_id=100000001).exists()


def test_sign_in_throttled_after_failures(client, agent, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        response = client.post("/login/", {"username": "agent", "password": "wrong"})
        assert response.status_code == HTTPStatus.OK
    # Even the right password is refused now, with a message that says why.
    response = client.post("/login/", {"username": "agent", "password": "agent-pass-123"})
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_in_throttled_per_ip(client, django_user_model, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    django_user_model.objects.create_user("zed", password="zed-pass-123")
    for name in ("a1", "a2", "a3"):
        client.post("/login/", {"username": name, "password": "wrong"})
    response = client.post("/login/", {"username": "zed", "password": "zed-pass-123"})
    assert "Too many failed sign-ins" in response.content.decode()


def test_sign_in_works(client, agent):
    response = client.post("/login/", {"username": "agent", "password": "agent-pass-123"})
    assert response.status_code == HTTPStatus.FOUND


def test_failed_sign_ins_are_recorded_without_the_username(client, agent, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    for _ in range(3):
        client.post("/login/", {"username": "agent-typo-secret", "password": "wrong"})
    details = sorted(AuditRecord.objects.values_list("detail", "outcome", "username"))
    assert details == [
        ("sign-in failed", "denied", ""),
        ("sign-in failed", "denied", ""),
        ("sign-in throttled", "rate_limited", ""),
    ]


def test_a_grants_sources_and_stores_are_read_in_one_query(
    org, make_user, django_user_model, django_assert_num_queries
):
    from lookup import access
    from lookup.models import OrgAccess

    make_user("till", roles.STORE_MANAGER, org, sources="INSTORE")
    OrgAccess.objects.filter(org=org).update(store_codes="doc123, mum01")
    user = django_user_model.objects.get(username="till")  # as a request's user: nothing read
    with django_assert_num_queries(1):
        assert access.allowed_sources(user, org) == {"INSTORE"}
        assert access.allowed_stores(user, org) == {"DOC123", "MUM01"}
        assert access.allowed_stores(user, org) == {"DOC123", "MUM01"}
        assert access.orgs_for(user) == [org]
