"""``manage.py sandbox``: run the Capillary sandbox in the foreground."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from lookup.sandbox import server


class Command(BaseCommand):
    help = "Run the Capillary sandbox (a stand-in for Capillary's customer and OAuth APIs) until Ctrl-C."

    def add_arguments(self, parser: ArgumentParser) -> None:
        server.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        server.serve(server.config_from(options, verbose=options["verbosity"] >= 2))
