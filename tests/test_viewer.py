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


def test_grants_read_once_a_request(django_user_model):
    from lookup import access
    from lookup.models import OrgAccess

    user = django_user_model.objects.create_user("viewer-g1")
    OrgAccess.objects.create(user=user, org=_org("alpha"), sources="instore")
    OrgAccess.objects.create(user=user, org=_org("beta"))
    this_request = fresh(django_user_model, user)
    with CaptureQueriesContext(connection) as queries:
        assert [o.slug for o in access.orgs_for(this_request)] == ["alpha", "beta"]
        alpha = access.resolve_org(this_request, "alpha")
        assert access.may_see(this_request, alpha, "INSTORE")
        assert not access.may_see(this_request, alpha, "WECHAT")
    assert len(queries) == 1


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


def test_grant_and_org_changed_elsewhere_apply_on_the_next_request(django_user_model):
    """Another server's change (no signal here) is seen at once: grants are read each request."""
    from lookup import access
    from lookup.models import Org, OrgAccess

    user = django_user_model.objects.create_user("viewer-g3")
    alpha = _org("alpha")
    OrgAccess.objects.create(user=user, org=alpha)
    assert access.resolve_org(fresh(django_user_model, user), "alpha") is not None
    Org.objects.filter(pk=alpha.pk).update(base_url="http://127.0.0.1:11")
    assert access.resolve_org(fresh(django_user_model, user), "alpha").base_url.endswith(":11")
    OrgAccess.objects.filter(user=user).update(sources="WECHAT")
    narrowed = fresh(django_user_model, user)
    assert not access.may_see(narrowed, access.resolve_org(narrowed, "alpha"), "INSTORE")


def test_session_user_read_each_request(django_user_model):
    user = django_user_model.objects.create_user("viewer-u1", password="pw-1-long-enough")
    backend = viewer.ViewerBackend()
    viewer.facts(backend.get_user(user.pk))
    with CaptureQueriesContext(connection) as queries:
        again = backend.get_user(user.pk)
        assert again.username == "viewer-u1"
        assert not again.has_perm(roles.VIEW_PII)  # the permissions come from the cache
    assert len(queries) == 1  # the user row, with its session epoch
    assert backend.get_user("not-a-number") is None
    assert backend.get_user("9" * 5000) is None


def test_superuser_flag_changed_without_a_signal_drops_the_facts(django_user_model):
    user = django_user_model.objects.create_superuser("viewer-u3", password="pw-3-long-enough")
    backend = viewer.ViewerBackend()
    assert backend.get_user(user.pk).has_perm(roles.VIEW_RAW)
    django_user_model.objects.filter(pk=user.pk).update(is_superuser=False)  # no signal
    assert not backend.get_user(user.pk).has_perm(roles.VIEW_RAW)
