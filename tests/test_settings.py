"""Settings read from the environment, with clear errors for what is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from lookup.env import env_bool, env_int, env_list

ROOT = Path(__file__).resolve().parent.parent


def run_check(tmp_path, **env) -> subprocess.CompletedProcess:
    base = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {"SECRET_KEY", "ALLOWED_HOSTS", "LOOKUP_FERNET_KEYS", "DATABASE_URL", "REDIS_URL"}
    }
    base.update({"LOOKUP_DATA_DIR": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_needs_secret_key(tmp_path):
    result = run_check(tmp_path, LOOKUP_ENV="production", ALLOWED_HOSTS="x.example.com")
    assert result.returncode == 2
    assert "SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_needs_allowed_hosts(tmp_path):
    result = run_check(tmp_path, LOOKUP_ENV="production", SECRET_KEY="x" * 50)
    assert result.returncode == 2
    assert "ALLOWED_HOSTS" in result.stderr


def test_production_needs_fernet_keys(tmp_path):
    result = run_check(
        tmp_path, LOOKUP_ENV="production", SECRET_KEY="x" * 50, ALLOWED_HOSTS="x.example.com"
    )
    assert result.returncode == 2
    assert "LOOKUP_FERNET_KEYS" in result.stderr


def test_production_needs_a_shared_cache(tmp_path):
    result = run_check(
        tmp_path,
        LOOKUP_ENV="production",
        SECRET_KEY="x" * 50,
        ALLOWED_HOSTS="x.example.com",
        LOOKUP_FERNET_KEYS="A" * 43 + "=",
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "REDIS_URL must be set in production" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_fernet_key_is_a_check_error(tmp_path):
    result = run_check(tmp_path, LOOKUP_FERNET_KEYS="not-a-key")
    assert result.returncode != 0
    assert "LOOKUP_FERNET_KEYS" in result.stderr


def test_dev_defaults_need_nothing(tmp_path):
    result = run_check(tmp_path, LOOKUP_ENV="dev")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "secret-key").exists()
    assert (tmp_path / "fernet.key").exists()


def test_bad_database_url(tmp_path):
    result = run_check(tmp_path, DATABASE_URL="mysql://x@y/z")
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr


def test_env_bool(monkeypatch):
    monkeypatch.setenv("FLAG", "yes")
    assert env_bool("FLAG") is True
    monkeypatch.setenv("FLAG", "off")
    assert env_bool("FLAG", True) is False
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FLAG"):
        env_bool("FLAG")


def test_env_int(monkeypatch):
    monkeypatch.setenv("N", "12")
    assert env_int("N", 1) == 12
    monkeypatch.setenv("N", "twelve")
    with pytest.raises(ImproperlyConfigured, match="N must be a whole number"):
        env_int("N", 1)


def test_env_list(monkeypatch):
    monkeypatch.setenv("HOSTS", " a.example.com, ,b.example.com ")
    assert env_list("HOSTS") == ["a.example.com", "b.example.com"]


def test_database_connections_are_kept_per_thread():
    """Every DATABASE_URL form, and the embedded SQLite, keeps connections between requests."""
    from django.conf import settings

    from lookup.settings import _database

    assert settings.DATABASES["default"]["CONN_MAX_AGE"] == 60
    assert _database("sqlite:////tmp/x.sqlite3")["CONN_MAX_AGE"] == 60
    assert _database("postgres://u@127.0.0.1:5432/db")["CONN_MAX_AGE"] == 60


def test_a_finished_request_keeps_the_threads_connection(tmp_path, django_db_blocker):
    """Opening a SQLite or PostgreSQL connection per request cost a tenth of a cached page.

    Django closes old connections when a request finishes; a connection made with the
    dashboard's settings (a file for SQLite: the test database in memory is never
    closed) is still open after that.
    """
    from django.conf import settings
    from django.db.utils import ConnectionHandler

    params = dict(settings.DATABASES["default"])
    if params["ENGINE"].endswith("sqlite3"):
        params["NAME"] = str(tmp_path / "kept.sqlite3")
    connection = ConnectionHandler({"default": params})["default"]
    with django_db_blocker.unblock():
        try:
            connection.ensure_connection()
            first = connection.connection
            connection.close_if_unusable_or_obsolete()  # what the end of a request does
            assert first is not None and connection.connection is first
        finally:
            connection.close()
