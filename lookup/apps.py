"""App configuration."""

from __future__ import annotations

from django.apps import AppConfig


class LookupConfig(AppConfig):
    name = "lookup"
    verbose_name = "Customer Lookup"

    def ready(self) -> None:
        from lookup import checks, viewer  # noqa: F401  (system checks, signal receivers)
