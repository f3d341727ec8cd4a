"""Sessions end at once, on every server: deactivation, a password, group or permission change."""

from __future__ import annotations

import uuid
from http import HTTPStatus

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from lookup import roles

pytestmark = pytest.mark.django_db
PAGE = "/audit/"  # reads the viewer's permissions and grants


@pytest.fixture(params=["locmem", "redis"])
def each_cache(request, settings):
    """Run the test on the local-memory cache and on Redis (skipped when Redis is not running)."""
    prefix = f"sessions-test-{uuid.uuid4().hex[:8]}"
    if request.param == "redis":
        location = request.getfixturevalue("redis_url")
        backend = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": location}
        settings.CACHES = {"default": {**backend, "KEY_PREFIX": prefix}}
    else:
        backend = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": prefix}
        settings.CACHES = {"default": backend}
    yield request.param
    if request.param == "redis":
        from django.core.cache import cache

        client = cache._cache.get_client()
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)


@pytest.fixture
def person(django_user_model):
    roles.ensure_groups()
    user = django_user_model.objects.create_user("person")
    user.groups.add(Group.objects.get(name=roles.LOYALTY_OPS))
    return user


def signed_in(user) -> Client:
    """Return a new browser (its own session) signed in as the user."""
    browser = Client()
    browser.force_login(user)
    assert browser.get(PAGE).status_code == HTTPStatus.OK
    return browser


def signed_out(browser: Client) -> bool:
    response = browser.get(PAGE)
    return response.status_code == HTTPStatus.FOUND and response["Location"].startswith("/login/")


def test_deactivated_user_is_signed_out_on_the_next_request(each_cache, person):
    laptop, phone = signed_in(person), signed_in(person)
    person.is_active = False
    person.save()
    assert signed_out(laptop) and signed_out(phone)


def test_deactivated_by_another_server_is_signed_out_on_the_next_request(each_cache, person):
    """That server's save signals ran in its own process; here only the row changed."""
    from django.contrib.auth import get_user_model

    laptop = signed_in(person)
    assert laptop.get(PAGE).status_code == HTTPStatus.OK  # the row and facts are warm here
    get_user_model().objects.filter(pk=person.pk).update(is_active=False)
    assert signed_out(laptop)


def test_reactivation_does_not_revive_old_sessions(each_cache, person):
    laptop = signed_in(person)
    person.is_active = False
    person.save()
    person.is_active = True
    person.save()
    assert signed_out(laptop)
    assert signed_in(person).get(PAGE).status_code == HTTPStatus.OK  # a new sign-in works


@pytest.mark.parametrize(
    "change",
    [
        lambda user: user.groups.set([Group.objects.get(name=roles.STORE_MANAGER)]),
        lambda user: user.groups.clear(),
        lambda user: Group.objects.get(name=roles.LOYALTY_OPS).user_set.remove(user),
        lambda user: Group.objects.get(name=roles.ADMIN).user_set.add(user),
        lambda user: Group.objects.get(name=roles.LOYALTY_OPS).user_set.clear(),
        lambda user: Group.objects.get(name=roles.LOYALTY_OPS).delete(),
        lambda user: user.user_permissions.add(Permission.objects.get(codename="view_pii")),
    ],
    ids=["set", "clear", "group-remove", "group-add", "group-clear", "group-delete", "perm"],
)
def test_group_or_permission_change_ends_every_session(each_cache, person, change):
    laptop, phone = signed_in(person), signed_in(person)
    change(person)
    assert signed_out(laptop) and signed_out(phone)


def test_changes_that_change_nothing_keep_sessions(each_cache, person, django_user_model):
    laptop = signed_in(person)
    person.groups.add(Group.objects.get(name=roles.LOYALTY_OPS))  # already a member
    person.first_name = "Pat"
    person.save()
    other = django_user_model.objects.create_user("other")
    other.groups.add(Group.objects.get(name=roles.LOYALTY_OPS))
    other.is_active = False
    other.save()
    assert laptop.get(PAGE).status_code == HTTPStatus.OK


def test_password_change_ends_the_other_sessions(each_cache, person):
    person.is_staff = True
    person.save()
    person.groups.set([Group.objects.get(name=roles.ADMIN)])
    laptop, phone = signed_in(person), signed_in(person)
    response = laptop.post(
        f"/admin/auth/user/{person.pk}/password/",
        {"password1": "a-new-pass-2026", "password2": "a-new-pass-2026", "usable_password": "true"},
    )
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[:2000]
    assert laptop.get(PAGE).status_code == HTTPStatus.OK  # the session that changed it stays
    assert signed_out(phone)


def test_password_changed_by_another_server_ends_sessions(each_cache, person):
    from django.contrib.auth import get_user_model

    laptop = signed_in(person)
    person.set_password("a-new-pass-2026")
    get_user_model().objects.filter(pk=person.pk).update(password=person.password)
    assert signed_out(laptop)
