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
