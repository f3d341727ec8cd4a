"""App configuration."""

from __future__ import annotations

from django.apps import AppConfig


class LookupConfig(AppConfig):
    name = "lookup"
    verbose_name = "Customer Lookup"

    def ready(self) -> None:
        from django.urls import register_converter

        from lookup import checks, sessions, viewer  # noqa: F401  (system checks, signal receivers)
        from lookup.inputs import WholeNumberConverter

        register_converter(WholeNumberConverter, "whole")
