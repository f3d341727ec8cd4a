"""Prepare the benchmark's database: migrate, a bench org at the sandbox, a signed-in agent.

The user is a call-centre agent, the role that opens customers all day: personal data
masked, with Reveal buttons (signed references) on the page.

Run with the bench's environment (`python -m bench.prepare SANDBOX_URL`); prints the session key.
"""

from __future__ import annotations

import sys

import django


def main() -> int:
    django.setup()
    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    from lookup import roles, sessions
    from lookup.models import Org, OrgAccess

    call_command("migrate", verbosity=0, interactive=False)
    org = Org(
        name="Bench org",
        slug="bench",
        base_url=sys.argv[1],
        auth_mode=Org.AuthMode.BASIC,
        till_username="demo.till",
        time_zone="Asia/Kolkata",
    )
    org.set_till_password("demo-password")
    org.save()
    user = get_user_model().objects.create_user("bench", password="bench-pass-2026")
    user.groups.add(Group.objects.get(name=roles.CALL_CENTRE_AGENT))
    OrgAccess.objects.create(user=user, org=org)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    # Adding the group moved the user's session epoch: a session made before it, or without
    # it, is signed out on its first request, as a real sign-in's would be.
    session[sessions.EPOCH_KEY] = sessions.epoch_of(user.pk)
    session.create()
    print(session.session_key)
    return 0


if __name__ == "__main__":
    sys.exit(main())
