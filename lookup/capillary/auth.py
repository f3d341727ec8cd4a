"""Capillary credentials: Basic (till user + MD5 password) and OAuth (client key + secret)."""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from lookup.capillary.client import CapillaryClient

TOKEN_HEADER = "X-CAP-API-OAUTH-TOKEN"


class Auth(Protocol):
    """What the client needs from a credential."""

    def headers(self, client: CapillaryClient, deadline_at: float | None = None) -> dict[str, str]:
        """Return the headers that authenticate one request."""

    def invalidate(self, sent: dict[str, str]) -> bool:
        """Forget credentials Capillary refused; return True if a retry may succeed."""


class BasicAuth:
    """Till credentials: `Authorization: Basic base64(username:md5hex(password))`."""

    def __init__(self, username: str, password: str) -> None:
        digest = hashlib.md5(password.encode("utf-8")).hexdigest()
        self._set(username, digest)

    @classmethod
    def from_md5(cls, username: str, md5_hex: str) -> BasicAuth:
        """Return credentials from a till password already stored as its MD5 hex digest."""
        auth = cls.__new__(cls)
        auth._set(username, md5_hex.strip().lower())
        return auth

    def _set(self, username: str, digest: str) -> None:
        pair = f"{username}:{digest}".encode()
        self._header = "Basic " + base64.b64encode(pair).decode("ascii")
        self.username = username

    def headers(self, client: CapillaryClient, deadline_at: float | None = None) -> dict[str, str]:
        """Return the Authorization header."""
        return {"Authorization": self._header}

    def invalidate(self, sent: dict[str, str]) -> bool:
        """Return False: a refused till password will not start working on a retry."""
        return False

    def __repr__(self) -> str:
        return f"BasicAuth(username={self.username!r})"


class OAuthAuth:
    """OAuth client credentials; keeps one token in memory and renews it before it expires."""

    def __init__(
        self,
        key: str,
        secret: str,
        *,
        margin_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.key = key
        self._secret = secret
        self.margin_seconds = margin_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self.generated = 0  # how many tokens this object asked for

    def headers(self, client: CapillaryClient, deadline_at: float | None = None) -> dict[str, str]:
        """Return the token header, generating a token if there is no fresh one."""
        return {TOKEN_HEADER: self.token(client, deadline_at)}

    def token(self, client: CapillaryClient, deadline_at: float | None = None) -> str:
        """Return a valid token; concurrent callers share one generation."""
        with self._lock:
            if self._token is None or self._clock() >= self._expires_at:
                self._token = None
                token, ttl = client.generate_token(self.key, self._secret, deadline_at=deadline_at)
                # Renew `margin` early, but a token shorter-lived than the margin is still
                # worth reusing for half its life rather than regenerating on every call.
                lifetime = ttl - self.margin_seconds if ttl > self.margin_seconds else ttl / 2
                self._token = token
                self._expires_at = self._clock() + lifetime
                self.generated += 1
            return self._token

    def invalidate(self, sent: dict[str, str]) -> bool:
        """Drop the token that was refused (unless another thread already replaced it)."""
        with self._lock:
            if self._token is not None and sent.get(TOKEN_HEADER) == self._token:
                self._token = None
        return True

    def __repr__(self) -> str:
        return f"OAuthAuth(key={self.key[:4] + '…'!r})"
