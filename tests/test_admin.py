"""The admin's privilege boundaries: no one climbs, and there is one way to sign in."""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import unquote

import pytest
from django import forms
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from lookup import roles
from lookup.models import AuditRecord, Org, OrgAccess

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(org, django_user_model):
    """An Admin-role user granted one org, and the users and orgs around it.

    boss: Admin role, staff, granted `sandbox`; other: an org boss has no grant to;
    root: a superuser; strong: holds a permission (through a group) boss lacks;
    clerk: a store manager in `sandbox`, also in a group that is not a role.
    """
    roles.ensure_groups()
    other = Org.objects.create(name="Other", slug="other", base_url="http://127.0.0.1:9")

    def person(name: str, *groups: Group, **fields: object):
        user = django_user_model.objects.create_user(name, **fields)
        user.groups.add(*groups)
        return user

    boss = person("boss", Group.objects.get(name=roles.ADMIN), is_staff=True)
    OrgAccess.objects.create(user=boss, org=org)
    auditors = Group.objects.create(name="Org deleters")
    auditors.permissions.add(Permission.objects.get(codename="delete_org"))
    newsletter = Group.objects.create(name="Newsletter")
    clerk = person("clerk", Group.objects.get(name=roles.STORE_MANAGER), newsletter)
    OrgAccess.objects.create(user=clerk, org=org)
    OrgAccess.objects.create(user=clerk, org=other)
    return {
        "org": org,
        "other": other,
        "boss": boss,
        "root": django_user_model.objects.create_superuser("root"),
        "strong": person("strong", auditors, is_staff=True),
        "clerk": clerk,
        "newbie": person("newbie"),
        "newsletter": newsletter,
        "auditors": auditors,
    }


@pytest.fixture
def boss_client(client, world):
    client.force_login(world["boss"])
    return client


def _form_pages(world) -> list[str]:
    """Return the add page and the change page of every object of every registered model."""
    pages = []
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        prefix = f"admin:{opts.app_label}_{opts.model_name}"
        pages.append(reverse(f"{prefix}_add"))
        for obj in model._default_manager.all()[:50]:
            pages.append(reverse(f"{prefix}_change", args=[obj.pk]))
        if model_admin.__class__.__name__ == "UserAdmin":
            pages += [reverse(f"{prefix}_password_change", args=[u.pk]) for u in world.values()
                      if isinstance(u, model)]  # fmt: skip
    return pages


def _writable_forms(response) -> list[forms.BaseForm]:
    """Return every form a change page lets its viewer submit (the main form and inlines)."""
    context = response.context
    if context is None or "adminform" not in context:
        return []
    found = [context["adminform"].form]
    for inline in context.get("inline_admin_formsets", []):
        if inline.has_add_permission or inline.has_change_permission:
            found += [*inline.formset.forms, inline.formset.empty_form]
    return [form for form in found if form.fields]  # a view-only page's form has none


def test_every_admin_form_keeps_an_admin_below_itself(boss_client, world):
    """Walk every admin add and change form as an Admin-role user: nothing lets it climb."""
    granted = {world["org"].pk}
    above = {world["root"].pk, world["strong"].pk}
    walked = 0
    for page in _form_pages(world):
        response = boss_client.get(page)
        for form in _writable_forms(response):
            walked += 1
            fields = form.fields
            assert "is_superuser" not in fields and "user_permissions" not in fields, page
            if "groups" in fields:
                assert set(fields["groups"].queryset.values_list("name", flat=True)) <= set(
                    roles.ROLES
                ), page
            for name, field in fields.items():
                if not isinstance(field, forms.ModelChoiceField):
                    continue
                model = field.queryset.model
                if model is Org:
                    assert set(field.queryset.values_list("pk", flat=True)) <= granted, page
                if model is world["boss"]._meta.model:
                    offered = set(field.queryset.values_list("pk", flat=True))
                    assert not offered & above, (page, name)
        own = reverse("admin:auth_user_change", args=[world["boss"].pk])
        if page == own:
            assert not set(response.context["adminform"].form.fields) & {
                "is_active", "is_staff", "groups"
            }  # fmt: skip
    assert walked > 5  # the walk really reached the forms


@pytest.mark.parametrize("who", ["root", "strong"])
def test_users_above_are_neither_listed_nor_reachable(boss_client, world, who):
    user = world[who]
    listing = boss_client.get(reverse("admin:auth_user_changelist"))
    assert listing.status_code == HTTPStatus.OK
    names = {u.username for u in listing.context["cl"].result_list}
    assert user.username not in names and "clerk" in names
    change = boss_client.get(reverse("admin:auth_user_change", args=[user.pk]))
    assert change.status_code == HTTPStatus.FOUND  # "does not exist", back to the admin index
    password = boss_client.get(reverse("admin:auth_user_password_change", args=[user.pk]))
    assert password.status_code == HTTPStatus.NOT_FOUND
    posted = boss_client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": "taken-over-2026", "password2": "taken-over-2026", "usable_password": "true"},
    )
    assert posted.status_code == HTTPStatus.NOT_FOUND
    user.refresh_from_db()
    assert not user.has_usable_password()


def _change_data(user, **changes) -> dict:
    """Return what the user change form posts, with `changes` on top."""
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "initial-date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "initial-date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "is_active": "on",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_admin_cannot_raise_itself(boss_client, world):
    boss = world["boss"]
    perm = Permission.objects.get(codename="delete_org")
    response = boss_client.post(
        reverse("admin:auth_user_change", args=[boss.pk]),
        _change_data(
            boss,
            first_name="Boss",
            is_superuser="on",
            is_staff="on",
            groups=[g.pk for g in Group.objects.all()],
            user_permissions=[perm.pk],
        ),
    )
    assert response.status_code == HTTPStatus.FOUND  # saved: the name, nothing else
    boss.refresh_from_db()
    assert boss.first_name == "Boss" and not boss.is_superuser
    assert list(boss.groups.values_list("name", flat=True)) == [roles.ADMIN]
    assert not boss.user_permissions.exists()


def test_admin_gives_roles_below_and_nothing_else(boss_client, world):
    clerk, perm = world["clerk"], Permission.objects.get(codename="delete_org")
    ops = Group.objects.get(name=roles.LOYALTY_OPS)
    url = reverse("admin:auth_user_change", args=[clerk.pk])
    refused = boss_client.post(
        url, _change_data(clerk, groups=[ops.pk, world["auditors"].pk], is_staff="on")
    )
    assert refused.status_code == HTTPStatus.OK  # the form, with its error
    assert "groups" in refused.context["adminform"].form.errors
    saved = boss_client.post(
        url,
        _change_data(clerk, groups=[ops.pk], is_superuser="on", user_permissions=[perm.pk]),
    )
    assert saved.status_code == HTTPStatus.FOUND
    clerk.refresh_from_db()
    assert not clerk.is_superuser and not clerk.user_permissions.exists()
    # The role changed; the group that is not a role stayed.
    assert set(clerk.groups.values_list("name", flat=True)) == {roles.LOYALTY_OPS, "Newsletter"}


def _grant(client, **fields):
    return client.post(reverse("admin:lookup_orgaccess_add"), {"sources": "", **fields})


def test_grants_only_below_and_only_in_own_orgs(boss_client, world):
    org, other = world["org"], world["other"]
    to_self = _grant(boss_client, user=world["boss"].pk, org=org.pk)
    assert "No one grants themselves access" in to_self.content.decode()
    elsewhere = _grant(boss_client, user=world["newbie"].pk, org=other.pk)
    assert "org" in elsewhere.context["adminform"].form.errors
    above = _grant(boss_client, user=world["strong"].pk, org=org.pk)
    assert "user" in above.context["adminform"].form.errors
    assert not OrgAccess.objects.filter(user__in=[world["boss"], world["strong"]], org=other)
    assert not OrgAccess.objects.filter(user=world["newbie"]).exists()
    assert _grant(boss_client, user=world["newbie"].pk, org=org.pk).status_code == HTTPStatus.FOUND
    assert OrgAccess.objects.filter(user=world["newbie"], org=org).exists()


def test_own_grant_is_read_only(boss_client, world):
    grant = OrgAccess.objects.get(user=world["boss"])
    url = reverse("admin:lookup_orgaccess_change", args=[grant.pk])
    assert _writable_forms(boss_client.get(url)) == []
    boss_client.post(url, {"user": world["boss"].pk, "org": world["org"].pk, "sources": "ALL"})
    grant.refresh_from_db()
    assert grant.sources == ""


def test_other_orgs_grants_and_records_are_out_of_sight(boss_client, world):
    AuditRecord.objects.create(
        username="x", org_id=world["other"].pk, org_slug="other", action="lookup"
    )
    AuditRecord.objects.create(
        username="y", org_id=world["org"].pk, org_slug="sandbox", action="lookup"
    )
    orgs = boss_client.get(reverse("admin:lookup_org_changelist")).context["cl"].result_list
    assert [o.slug for o in orgs] == ["sandbox"]
    grants = boss_client.get(reverse("admin:lookup_orgaccess_changelist")).context["cl"]
    assert {g.org.slug for g in grants.result_list} == {"sandbox"}
    records = boss_client.get(reverse("admin:lookup_auditrecord_changelist")).context["cl"]
    assert [r.org_slug for r in records.result_list] == ["sandbox"]


def test_admin_sign_in_goes_through_the_one_sign_in_form(client, agent, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    agent.is_staff = True
    agent.save()
    for _ in range(2):
        client.post("/login/", {"username": "agent", "password": "wrong"})
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "agent", "password": "agent-pass-123"}
    )
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/login/?next=/admin/"
    assert "_auth_user_id" not in client.session
    # Following it, the locked-out username meets the throttle and its message.
    locked = client.post(response["Location"], {"username": "agent", "password": "agent-pass-123"})
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_admin_asks_for_the_one_sign_in_form(client, agent):
    response = client.get("/admin/", follow=True)
    assert unquote(response.redirect_chain[-1][0]) == "/login/?next=/admin/"
    agent.is_staff = True
    agent.save()
    signed_in = client.post(
        "/login/?next=/admin/", {"username": "agent", "password": "agent-pass-123"}
    )
    assert signed_in["Location"] == "/admin/"
    assert client.get("/admin/").status_code == HTTPStatus.OK
