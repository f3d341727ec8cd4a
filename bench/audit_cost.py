"""What auditing costs a cache-hit page: 1,000 page views with and without the audit INSERT.

    .venv/bin/python -m bench.audit_cost [--hits 1000]

In-process (Django's test client) against the sandbox on a free loopback port, on a
temporary SQLite database, so it measures the dashboard, not the network. Prints one
JSON object: milliseconds per page with and without auditing, and the difference.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hits", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ["LOOKUP_DATA_DIR"] = tempfile.mkdtemp(prefix="audit-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lookup.settings")
    os.environ["LOOKUP_RATE_LIMIT"] = "0"
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    import logging

    logging.disable(logging.INFO)
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    from lookup import audit, roles
    from lookup.models import AuditRecord, Org, OrgAccess
    from lookup.sandbox.server import SandboxConfig, SandboxServer

    setup_test_environment()
    call_command("migrate", verbosity=0)
    sandbox = SandboxServer(SandboxConfig(host="127.0.0.1", port=0))
    sandbox.start()
    try:
        org = Org(name="Bench", slug="bench", base_url=sandbox.url, till_username="demo.till")
        org.set_till_password("demo-password")
        org.save()
        user = get_user_model().objects.create_user("bench", password="bench-pass-123")
        roles.ensure_groups()
        user.groups.add(Group.objects.get(name=roles.STORE_MANAGER))
        OrgAccess.objects.create(user=user, org=org)
        client = Client()
        client.force_login(user)
        url = "/customers/566881933/?source=INSTORE"
        assert client.get(url).status_code == 200  # fills the cache
        real_record = audit.record

        def run() -> float:
            started = time.perf_counter()
            for _ in range(args.hits):
                client.get(url)
            return (time.perf_counter() - started) * 1000 / args.hits

        with_audit, without = [], []
        for _ in range(args.rounds):
            audit.record = real_record
            with_audit.append(run())
            audit.record = lambda *a, **k: None
            without.append(run())
        audit.record = real_record
        on, off = statistics.median(with_audit), statistics.median(without)
        print(
            json.dumps(
                {
                    "hits": args.hits,
                    "ms_per_page_with_audit": round(on, 3),
                    "ms_per_page_without_audit": round(off, 3),
                    "audit_ms_per_page": round(on - off, 3),
                    "audit_records": AuditRecord.objects.count(),
                }
            )
        )
    finally:
        sandbox.stop()


if __name__ == "__main__":
    sys.exit(main())
