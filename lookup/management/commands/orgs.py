"""Add, update, list, test, rotate and remove Capillary orgs from a shell."""

from __future__ import annotations

import getpass
import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from lookup import services
from lookup.models import SOURCE_CHOICES, Org

SECRET_HELP = (
    "Read from the environment variable named here (e.g. CAP_PASSWORD), so the secret never"
    " sits in shell history; without it, prompted for when a terminal is attached."
)


class Command(BaseCommand):
    help = "Manage stored Capillary orgs: add, update, list, test, rotate-keys, remove."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        for name in ("add", "update"):
            p = sub.add_parser(name, help=f"{name} an org")
            p.add_argument("slug")
            required = name == "add"
            p.add_argument("--name", required=required)
            p.add_argument("--base-url", required=required)
            p.add_argument("--auth", choices=["basic", "oauth"], default=None)
            p.add_argument("--till-username")
            p.add_argument("--till-password-env", metavar="VAR", help=SECRET_HELP)
            p.add_argument("--oauth-key")
            p.add_argument("--oauth-secret-env", metavar="VAR", help=SECRET_HELP)
            p.add_argument("--source", choices=[s for s, _ in SOURCE_CHOICES])
            p.add_argument("--account-id")
            p.add_argument("--country", help="default country of typed mobiles (IN, GB...)")
            p.add_argument(
                "--search-every-source", choices=["on", "off"], help="search asks every source"
            )
            p.add_argument("--name-search", choices=["on", "off"], help="suggest customers by name")
            p.add_argument("--time-zone")
            p.add_argument("--inactive", action="store_true", help="mark the org inactive")
        sub.add_parser("list", help="list orgs (never shows secrets)")
        p = sub.add_parser("test", help="make one authenticated call for the org")
        p.add_argument("slug")
        p.add_argument("--customer-id", type=int, default=1)
        p = sub.add_parser("remove", help="delete an org and its grants")
        p.add_argument("slug")
        sub.add_parser("rotate-keys", help="re-encrypt every stored secret with the newest key")

    def handle(self, *args, action: str, **options) -> None:
        getattr(self, "do_" + action.replace("-", "_"))(**options)

    def _org(self, slug: str) -> Org:
        try:
            return Org.objects.get(slug=slug)
        except Org.DoesNotExist:
            raise CommandError(
                f"No org with slug {slug!r}. `manage.py orgs list` shows them."
            ) from None

    def _secret(self, var: str | None, label: str) -> str | None:
        if var:
            value = os.environ.get(var)
            if not value:
                raise CommandError(f"The environment variable {var} is empty or unset.")
            return value
        return None

    def _apply(self, org: Org, options: dict) -> None:
        for option, attr in [
            ("name", "name"),
            ("base_url", "base_url"),
            ("auth", "auth_mode"),
            ("till_username", "till_username"),
            ("oauth_key", "oauth_key"),
            ("source", "default_source"),
            ("account_id", "default_account_id"),
            ("time_zone", "time_zone"),
            ("country", "default_country"),
        ]:
            if options.get(option) is not None:
                setattr(org, attr, options[option])
        for option in ("search_every_source", "name_search"):
            if options.get(option) is not None:
                setattr(org, option, options[option] == "on")
        if options.get("inactive"):
            org.is_active = False
        password = self._secret(options.get("till_password_env"), "till password")
        if password:
            org.set_till_password(password)
        secret = self._secret(options.get("oauth_secret_env"), "OAuth secret")
        if secret:
            org.set_oauth_secret(secret)
        if org.auth_mode == Org.AuthMode.BASIC and not org.till_password_encrypted and os.isatty(0):
            org.set_till_password(getpass.getpass("Till password: "))
        if org.auth_mode == Org.AuthMode.OAUTH and not org.oauth_secret_encrypted and os.isatty(0):
            org.set_oauth_secret(getpass.getpass("OAuth client secret: "))
        try:
            org.full_clean()
        except ValidationError as exc:
            problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            raise CommandError(f"Invalid org: {problems}") from None
        org.save()

    def do_add(self, slug: str, **options) -> None:
        if Org.objects.filter(slug=slug).exists():
            raise CommandError(f"An org with slug {slug!r} exists; use `orgs update {slug}`.")
        org = Org(slug=slug, auth_mode=options.get("auth") or Org.AuthMode.BASIC)
        self._apply(org, options)
        self.stdout.write(self.style.SUCCESS(f"Added org {slug}."))

    def do_update(self, slug: str, **options) -> None:
        org = self._org(slug)
        self._apply(org, options)
        services.forget_clients()
        self.stdout.write(self.style.SUCCESS(f"Updated org {slug}."))

    def do_list(self, **options) -> None:
        orgs = Org.objects.all()
        if not orgs:
            self.stdout.write("No orgs yet. Add one with `manage.py orgs add`.")
        for org in orgs:
            secret = "secret stored" if org.has_credentials else "NO SECRET"
            state = "" if org.is_active else " (inactive)"
            self.stdout.write(
                f"{org.slug}\t{org.name}\t{org.base_url}\t{org.auth_mode}\t"
                f"{org.default_source}\t{org.time_zone}\t{secret}{state}"
            )

    def do_test(self, slug: str, customer_id: int, **options) -> None:
        ok, message = services.test_org(self._org(slug), customer_id)
        if not ok:
            raise CommandError(f"{slug}: {message}")
        self.stdout.write(self.style.SUCCESS(f"{slug}: {message}"))

    def do_remove(self, slug: str, **options) -> None:
        self._org(slug).delete()
        self.stdout.write(self.style.SUCCESS(f"Removed org {slug}."))

    def do_rotate_keys(self, **options) -> None:
        count = 0
        for org in Org.objects.all():
            org.rotate_secrets()
            org.save(update_fields=["till_password_encrypted", "oauth_secret_encrypted"])
            count += 1
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted the secrets of {count} org(s)."))
