"""Create (or refresh) the demo org pointing at the sandbox, and the demo user."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from lookup.models import Org, OrgAccess

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-lookup-2026"


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
        org.save()
        User = get_user_model()
        user, created = User.objects.get_or_create(username=DEMO_USERNAME)
        if created or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
        user.is_staff = True
        user.is_superuser = True
        user.save()
        OrgAccess.objects.get_or_create(user=user, org=org)
        self.stdout.write(f"Demo org '{org.slug}' → {org.base_url}; user '{DEMO_USERNAME}' ready.")
