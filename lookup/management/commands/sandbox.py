"""``manage.py sandbox``: run the Capillary sandbox in the foreground."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from lookup.sandbox.server import SandboxConfig, main


class Command(BaseCommand):
    help = "Run the Capillary sandbox (a stand-in for Capillary's customer and OAuth APIs) until Ctrl-C."

    def add_arguments(self, parser: ArgumentParser) -> None:
        defaults = SandboxConfig()
        parser.add_argument("--host", default=defaults.host)
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument("--latency-ms", type=float, default=0.0)
        parser.add_argument("--jitter-ms", type=float, default=0.0)
        parser.add_argument("--till-username", default=defaults.till_username)
        parser.add_argument("--till-password", default=defaults.till_password)
        parser.add_argument("--oauth-key", default=defaults.oauth_key)
        parser.add_argument("--oauth-secret", default=defaults.oauth_secret)
        parser.add_argument("--token-ttl", type=float, default=defaults.token_ttl_seconds)
        parser.add_argument("--timeout-seconds", type=float, default=defaults.timeout_seconds)

    def handle(self, *args: Any, **options: Any) -> None:
        argv = [
            f"--{name.replace('_', '-')}={options[name]}"
            for name in (
                "host", "port", "latency_ms", "jitter_ms", "till_username", "till_password",
                "oauth_key", "oauth_secret", "token_ttl", "timeout_seconds",
            )
        ]  # fmt: skip
        if options["verbosity"] >= 2:
            argv.append("--verbose")
        main(argv)
