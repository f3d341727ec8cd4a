"""Create (or refresh) the demo org pointing at the sandbox, the demo admin and one user per role."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from lookup import roles
from lookup.models import Org, OrgAccess

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-lookup-2026"
# One demo user per role, to see what each role sees (same password as the demo admin).
ROLE_USERS = {
    "manager": roles.STORE_MANAGER,
    "agent": roles.CALL_CENTRE_AGENT,
    "ops": roles.LOYALTY_OPS,
}


class Command(BaseCommand):
    help = "Create the demo org (the sandbox) and the demo user; safe to run again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sandbox-url", default=settings.LOOKUP_SANDBOX_URL)

    def handle(self, *args, sandbox_url: str, **options) -> None:
        org, _ = Org.objects.get_or_create(slug="demo", defaults={"name": "Demo org (sandbox)"})
        org.base_url = sandbox_url.rstrip("/")
        org.auth_mode = Org.AuthMode.BASIC
        org.till_username = "demo.till"
        org.set_till_password("demo-password")
        org.oauth_key = "demo-key"
        org.set_oauth_secret("demo-secret")
        org.time_zone = "Asia/Kolkata"
        org.default_country = "IN"
        # The sandbox answers name search, and a few of its emails belong to two customers.
        org.name_search = True
        org.search_every_source = True
        org.save()
        roles.ensure_groups()
        admin = self._user(DEMO_USERNAME, org, roles.ADMIN)
        admin.is_staff = admin.is_superuser = True
        admin.save()
        for username, role in ROLE_USERS.items():
            self._user(username, org, role)
        self.stdout.write(
            f"Demo org '{org.slug}' → {org.base_url}; users {DEMO_USERNAME} (admin), "
            + ", ".join(f"{name} ({role})" for name, role in ROLE_USERS.items())
            + " ready."
        )

    def _user(self, username: str, org: Org, role: str):
        from django.contrib.auth.models import Group

        user, created = get_user_model().objects.get_or_create(username=username)
        if created or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save()
        user.groups.set([Group.objects.get(name=role)])
        OrgAccess.objects.get_or_create(user=user, org=org)
        return user
