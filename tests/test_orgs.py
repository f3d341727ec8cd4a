"""Stored orgs: encrypted secrets, key rotation, the orgs command and the admin."""

from __future__ import annotations

from http import HTTPStatus
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command

from lookup import crypto
from lookup.models import Org, OrgAccess

pytestmark = pytest.mark.django_db


def call(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_secret_encrypted_at_rest(org):
    stored = Org.objects.values_list("till_password_encrypted", "oauth_secret_encrypted").get()
    assert "demo-password" not in stored[0] and "demo-secret" not in stored[1]
    assert org.till_password() == "demo-password"
    assert org.oauth_secret() == "demo-secret"


def test_key_rotation(org, settings):
    old_key = settings.FERNET_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.FERNET_KEYS = [new_key, old_key]
    org.refresh_from_db()
    assert org.till_password() == "demo-password"  # old key still decrypts
    call("orgs", "rotate-keys")
    settings.FERNET_KEYS = [new_key]
    org.refresh_from_db()
    assert org.till_password() == "demo-password"
    assert org.oauth_secret() == "demo-secret"
    settings.FERNET_KEYS = [old_key]
    org.refresh_from_db()
    with pytest.raises(crypto.SecretUnreadable):
        org.till_password()


def test_orgs_add_list_update_test_remove(sandbox, monkeypatch):
    monkeypatch.setenv("CAP_PASSWORD", "demo-password")
    out = call(
        "orgs",
        "add",
        "acme",
        "--name",
        "Acme",
        "--base-url",
        sandbox.url,
        "--till-username",
        "demo.till",
        "--till-password-env",
        "CAP_PASSWORD",
        "--time-zone",
        "Europe/London",
    )
    assert "Added org acme" in out
    listing = call("orgs", "list")
    assert "acme" in listing and "secret stored" in listing
    assert "demo-password" not in listing
    assert "Credentials accepted" in call("orgs", "test", "acme")

    monkeypatch.setenv("CAP_PASSWORD", "wrong")
    call("orgs", "update", "acme", "--till-password-env", "CAP_PASSWORD")
    with pytest.raises(CommandError, match="acme"):
        call("orgs", "test", "acme")

    monkeypatch.setenv("CAP_KEY_SECRET", "demo-secret")
    call(
        "orgs",
        "update",
        "acme",
        "--auth",
        "oauth",
        "--oauth-key",
        "demo-key",
        "--oauth-secret-env",
        "CAP_KEY_SECRET",
    )
    assert "Credentials accepted" in call("orgs", "test", "acme")

    call("orgs", "remove", "acme")
    assert not Org.objects.filter(slug="acme").exists()


def test_orgs_add_rejects_bad_values(sandbox):
    with pytest.raises(CommandError, match="time_zone"):
        call(
            "orgs",
            "add",
            "bad",
            "--name",
            "Bad",
            "--base-url",
            sandbox.url,
            "--time-zone",
            "Mars/Olympus",
        )
    with pytest.raises(CommandError, match="base_url"):
        call("orgs", "add", "bad", "--name", "Bad", "--base-url", "ftp://x")
    with pytest.raises(CommandError, match="No org"):
        call("orgs", "test", "missing")


def test_demo_setup_is_idempotent(django_user_model):
    call("demo_setup", "--sandbox-url", "http://127.0.0.1:8001")
    call("demo_setup", "--sandbox-url", "http://127.0.0.1:8001")
    org = Org.objects.get(slug="demo")
    user = django_user_model.objects.get(username="demo")
    assert user.check_password("demo-lookup-2026")
    assert OrgAccess.objects.filter(user=user, org=org).count() == 1
    assert org.till_password() == "demo-password"
    for username, role in [
        ("manager", "Store manager"),
        ("agent", "Call-centre agent"),
        ("ops", "Loyalty ops"),
    ]:
        member = django_user_model.objects.get(username=username)
        assert member.check_password("demo-lookup-2026")
        assert list(member.groups.values_list("name", flat=True)) == [role]
        assert OrgAccess.objects.filter(user=member, org=org).count() == 1


def test_admin_secret_is_write_only(client, org, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="root-pass-123")
    client.force_login(admin)
    response = client.get(f"/admin/lookup/org/{org.pk}/change/")
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert "demo-password" not in page and "demo-secret" not in page
    assert org.till_password_encrypted not in page
    form = {
        "name": org.name,
        "slug": org.slug,
        "is_active": "on",
        "base_url": org.base_url,
        "time_zone": org.time_zone,
        "auth_mode": "basic",
        "till_username": "demo.till",
        "new_till_password": "",
        "oauth_key": "demo-key",
        "new_oauth_secret": "rotated-secret",
        "default_source": "INSTORE",
        "default_account_id": "",
        "default_country": "IN",
        "connect_timeout": "",
        "read_timeout": "",
        "deadline": "",
        "grants-TOTAL_FORMS": "0",
        "grants-INITIAL_FORMS": "0",
    }
    response = client.post(f"/admin/lookup/org/{org.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    org.refresh_from_db()
    assert org.till_password() == "demo-password"  # blank keeps the stored one
    assert org.oauth_secret() == "rotated-secret"
