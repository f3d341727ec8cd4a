"""The viewer's permissions and time zone: cached, and dropped when anything they hang on changes."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lookup import roles, viewer
from lookup.models import UserPreference

pytestmark = pytest.mark.django_db


def fresh(user_model, user):
    """Return the user as the next request would load it (no per-object memo)."""
    return user_model.objects.get(pk=user.pk)


def test_permissions_read_once_then_cached(django_user_model):
    user = django_user_model.objects.create_user("viewer-a")
    user.groups.add(Group.objects.get(name=roles.LOYALTY_OPS))
    assert fresh(django_user_model, user).has_perm(roles.VIEW_PII)
    again = fresh(django_user_model, user)
    with CaptureQueriesContext(connection) as queries:
        assert again.has_perm(roles.VIEW_PII)
        assert again.has_perm(roles.VIEW_RAW)
    assert len(queries) == 0


def test_group_change_applies_at_once(django_user_model):
    user = django_user_model.objects.create_user("viewer-b")
    user.groups.add(Group.objects.get(name=roles.LOYALTY_OPS))
    assert fresh(django_user_model, user).has_perm(roles.VIEW_RAW)
    user.groups.set([Group.objects.get(name=roles.STORE_MANAGER)])
    assert not fresh(django_user_model, user).has_perm(roles.VIEW_RAW)
    # From the group's side, too.
    ops = Group.objects.get(name=roles.LOYALTY_OPS)
    ops.user_set.add(user)
    assert fresh(django_user_model, user).has_perm(roles.VIEW_RAW)


def test_group_permission_change_applies_at_once(django_user_model):
    user = django_user_model.objects.create_user("viewer-c")
    manager = Group.objects.get(name=roles.STORE_MANAGER)
    user.groups.add(manager)
    assert not fresh(django_user_model, user).has_perm(roles.VIEW_RAW)
    manager.permissions.add(Permission.objects.get(codename="view_raw_response"))
    assert fresh(django_user_model, user).has_perm(roles.VIEW_RAW)


def test_direct_permission_and_deactivation(django_user_model):
    user = django_user_model.objects.create_user("viewer-d")
    assert not fresh(django_user_model, user).has_perm(roles.VIEW_PII)
    user.user_permissions.add(Permission.objects.get(codename="view_pii"))
    assert fresh(django_user_model, user).has_perm(roles.VIEW_PII)
    user.is_active = False
    user.save()
    assert not fresh(django_user_model, user).has_perm(roles.VIEW_PII)


def test_time_zone_preference(django_user_model):
    user = django_user_model.objects.create_user("viewer-e")
    assert viewer.facts(fresh(django_user_model, user))["tz"] == ""
    UserPreference.objects.create(user=user, time_zone="Europe/London")
    assert viewer.facts(fresh(django_user_model, user))["tz"] == "Europe/London"


def _org(slug: str, **fields):
    from lookup.models import Org

    org = Org(name=slug.title(), slug=slug, base_url="http://127.0.0.1:9", **fields)
    org.set_till_password("x")
    org.save()
    return org


def test_grants_read_once_then_cached(django_user_model):
    from lookup import access
    from lookup.models import OrgAccess

    user = django_user_model.objects.create_user("viewer-g1")
    OrgAccess.objects.create(user=user, org=_org("alpha"), sources="instore")
    OrgAccess.objects.create(user=user, org=_org("beta"))
    assert [o.slug for o in access.orgs_for(fresh(django_user_model, user))] == ["alpha", "beta"]
    again = fresh(django_user_model, user)
    with CaptureQueriesContext(connection) as queries:
        assert [o.slug for o in access.orgs_for(again)] == ["alpha", "beta"]
        alpha = access.resolve_org(again, "alpha")
        assert access.may_see(again, alpha, "INSTORE")
        assert not access.may_see(again, alpha, "WECHAT")
    assert len(queries) == 0


def test_grant_and_org_changes_apply_at_once(django_user_model):
    from lookup import access
    from lookup.models import OrgAccess

    user = django_user_model.objects.create_user("viewer-g2")
    alpha = _org("alpha")
    grant = OrgAccess.objects.create(user=user, org=alpha, sources="INSTORE")
    assert access.resolve_org(fresh(django_user_model, user), "alpha") is not None
    # Narrowed, then revoked.
    grant.sources = "WECHAT"
    grant.save()
    viewer_now = fresh(django_user_model, user)
    assert not access.may_see(viewer_now, access.resolve_org(viewer_now, "alpha"), "INSTORE")
    grant.delete()
    assert access.resolve_org(fresh(django_user_model, user), "alpha") is None
    # An org that changes is read anew; one switched off disappears.
    OrgAccess.objects.create(user=user, org=alpha)
    assert access.resolve_org(fresh(django_user_model, user), "alpha").base_url.endswith(":9")
    alpha.base_url = "http://127.0.0.1:10"
    alpha.save()
    assert access.resolve_org(fresh(django_user_model, user), "alpha").base_url.endswith(":10")
    alpha.is_active = False
    alpha.save()
    assert access.resolve_org(fresh(django_user_model, user), "alpha") is None


def test_org_changed_by_another_process_is_read_anew(django_user_model):
    """The cached facts carry each org's stamp; a process holding an older copy re-reads it."""
    from lookup import access
    from lookup.models import Org, OrgAccess

    user = django_user_model.objects.create_user("viewer-g3")
    alpha = _org("alpha")
    OrgAccess.objects.create(user=user, org=alpha)
    assert access.resolve_org(fresh(django_user_model, user), "alpha") is not None
    # Another process saves the org: the row, its stamp and the cached facts change...
    Org.objects.filter(pk=alpha.pk).update(base_url="http://127.0.0.1:11")
    changed = Org.objects.get(pk=alpha.pk)
    changed.save()
    viewer.facts(fresh(django_user_model, user))
    # ...while this process still holds its older copy.
    viewer._orgs[alpha.pk] = (alpha.updated_at.timestamp(), alpha)
    assert access.resolve_org(fresh(django_user_model, user), "alpha").base_url.endswith(":11")
    assert viewer._orgs[alpha.pk][1].base_url.endswith(":11")


def test_session_user_read_once_then_from_this_process(django_user_model):
    user = django_user_model.objects.create_user("viewer-u1", password="pw-1-long-enough")
    backend = viewer.ViewerBackend()
    first = backend.get_user(user.pk)
    viewer.facts(first)  # a page reads the facts, which vouch for the row
    with CaptureQueriesContext(connection) as queries:
        again = backend.get_user(user.pk)
        assert again.username == "viewer-u1" and again is not first
        assert not again.has_perm(roles.VIEW_PII)
    assert len(queries) == 0
    assert backend.get_user("not-a-number") is None


def test_session_user_changes_apply_at_once(client, django_user_model):
    user = django_user_model.objects.create_user("viewer-u2", password="pw-2-long-enough")
    client.force_login(user)
    assert client.get("/preferences/").status_code == 200
    assert client.get("/preferences/").status_code == 200  # served from the process's copy
    user.is_active = False
    user.save()
    assert client.get("/preferences/").status_code == 302  # signed out
    user.is_active = True
    user.save()
    client.force_login(user)
    assert client.get("/preferences/").status_code == 200
    user.set_password("pw-3-long-enough")  # another device changed the password
    user.save()
    assert client.get("/preferences/").status_code == 302


def test_session_user_changed_without_a_signal_is_read_after_the_facts_go(django_user_model):
    user = django_user_model.objects.create_user("viewer-u3")
    backend = viewer.ViewerBackend()
    viewer.facts(backend.get_user(user.pk))
    django_user_model.objects.filter(pk=user.pk).update(is_active=False)  # no signal
    viewer.forget(user.pk)  # as the facts expire (VIEWER_CACHE_SECONDS)
    assert backend.get_user(user.pk) is None
