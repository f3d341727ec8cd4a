"""System checks for configuration that would fail at the first lookup."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register


@register()
def check_fernet_keys(app_configs, **kwargs) -> list[Error]:
    from cryptography.fernet import Fernet

    errors = []
    for index, key in enumerate(settings.FERNET_KEYS):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            errors.append(
                Error(
                    f"LOOKUP_FERNET_KEYS item {index + 1} is not a valid Fernet key.",
                    hint="Generate one with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'",
                    id="lookup.E001",
                )
            )
    return errors
