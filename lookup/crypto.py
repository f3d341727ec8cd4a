"""Encryption at rest for stored org secrets (Fernet, with key rotation)."""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SecretUnreadable(Exception):
    """A stored secret cannot be decrypted with any configured key."""


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError):
        raise ImproperlyConfigured(
            "LOOKUP_FERNET_KEYS must be comma-separated Fernet keys (32 url-safe base64 bytes each)."
        ) from None


def fernet() -> MultiFernet:
    """Return the MultiFernet of the configured keys; the first one encrypts."""
    keys = tuple(settings.FERNET_KEYS)
    if not keys:
        raise ImproperlyConfigured("LOOKUP_FERNET_KEYS must name at least one key.")
    return _fernet(keys)


def encrypt(plaintext: str) -> str:
    """Return the ciphertext of a secret, as text for a database column."""
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    """Return the secret behind a ciphertext, trying every configured key."""
    try:
        return fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("no configured key decrypts this secret") from None


def rotate(ciphertext: str) -> str:
    """Return the ciphertext re-encrypted under the first (newest) key."""
    try:
        return fernet().rotate(ciphertext.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("no configured key decrypts this secret") from None
