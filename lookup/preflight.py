"""Start-up validation for `make serve`: refuse to start, one line per problem, when misconfigured.

`gunicorn_conf.on_starting` runs `run_or_exit` in gunicorn's master before any worker
forks, so an instance that would fail (or, worse, half-work) never takes traffic.
"""

from __future__ import annotations

import fcntl
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1", "testserver"})
# Held for the master's lifetime: a second instance on the same data directory finds it taken.
_instance_lock: IO[str] | None = None


def environment_problems(environ: Mapping[str, str]) -> list[str]:
    """Return what the environment lacks for production, before Django reads it."""
    if environ.get("LOOKUP_ENV", "dev").lower() != "production":
        return []
    needs = {
        "SECRET_KEY": "Django's signing key",
        "LOOKUP_FERNET_KEYS": "the credentials key that decrypts the orgs' Capillary secrets",
        "ALLOWED_HOSTS": "the host names the dashboard answers to",
        "REDIS_URL": "the cache every instance shares (sessions, locks, limits, breakers)",
    }
    return [
        f"{name} is not set: production needs {what}."
        for name, what in needs.items()
        if not environ.get(name)
    ]


def public_hosts(hosts: list[str]) -> list[str]:
    """Return the allowed hosts that are not this machine."""
    return [host for host in hosts if host not in LOCAL_HOSTS]


def problems(workers: int = 1) -> list[str]:
    """Return what stops this configuration from serving (Django must be set up)."""
    from django.conf import settings
    from django.core import checks
    from django.core.cache import cache
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    found: list[str] = []
    for message in checks.run_checks(include_deployment_checks=False):
        if message.level >= checks.ERROR:
            found.append(f"{message.id}: {message.msg}")
    if settings.DEBUG and public_hosts(settings.ALLOWED_HOSTS):
        hosts = ", ".join(public_hosts(settings.ALLOWED_HOSTS))
        found.append(
            f"DEBUG is on with a public host ({hosts}): debug pages would show settings "
            "and stack traces to anyone; set DEBUG=false."
        )
    database_ok = True
    try:
        connection.ensure_connection()
    except Exception as exc:  # noqa: BLE001 - each failure becomes one line
        database_ok = False
        found.append(f"DATABASE_URL is unreachable: {_first_line(exc)}")
    if database_ok:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            names = ", ".join(f"{m.app_label}.{m.name}" for m, _backwards in pending[:3])
            more = f" and {len(pending) - 3} more" if len(pending) > 3 else ""
            found.append(f"pending migrations: {names}{more}; run `manage.py migrate` first.")
    if settings.REDIS_URL:
        try:
            cache.set("preflight", "ok", timeout=10)
            if cache.get("preflight") != "ok":
                raise OSError("a value written could not be read back")
        except Exception as exc:  # noqa: BLE001
            found.append(f"REDIS_URL is unreachable: {_first_line(exc)}")
    else:
        found.extend(_local_cache_problems(workers, settings.DATA_DIR))
    return found


def _local_cache_problems(workers: int, data_dir) -> list[str]:
    """Refuse several processes on the local-memory cache: each would keep its own."""
    global _instance_lock
    if workers > 1:
        return [
            f"{workers} workers on the local-memory cache: single-flight, limits and "
            "breakers would not be shared; set REDIS_URL or WEB_CONCURRENCY=1."
        ]
    path = os.path.join(data_dir, "serve.lock")
    handle = open(path, "w")  # noqa: SIM115 - kept open while this instance runs
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return [
            f"another instance already serves from {data_dir} on the local-memory cache: "
            "single-flight and limits would not be shared; set REDIS_URL."
        ]
    _instance_lock = handle
    return []


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def run_or_exit(workers: int, *, collectstatic: bool = True) -> None:
    """Check everything; print one line per problem and exit 1, or collect static files."""
    lines = environment_problems(os.environ)
    if not lines:
        import django
        from django.core.exceptions import ImproperlyConfigured

        try:
            django.setup()
        except ImproperlyConfigured as exc:
            lines = [str(exc)]
        else:
            lines = problems(workers)
    if lines:
        for line in lines:
            sys.stderr.write(f"refusing to start: {line}\n")
        sys.stderr.flush()
        raise SystemExit(1)
    from django.conf import settings
    from django.core.cache import caches
    from django.core.management import call_command
    from django.db import connections

    if collectstatic:
        # Instances on one host may share STATIC_ROOT and start together: one collects at a time.
        root = Path(settings.STATIC_ROOT)
        root.mkdir(parents=True, exist_ok=True)
        with open(root / ".collectstatic.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            call_command("collectstatic", interactive=False, verbosity=0)
    # Workers fork from this process: they must not share its connections.
    connections.close_all()
    caches.close_all()
