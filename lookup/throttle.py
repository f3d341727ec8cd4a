"""Abuse limits: distinct customers per user per window, and sign-in failures."""

from __future__ import annotations

import hashlib
import time

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.utils.crypto import salted_hmac

from lookup import audit, metrics


def lookup_retry_after(user_id: int, customer_id: int | str) -> int | None:
    """Count this customer against the user's limit; return seconds to wait, or None if allowed.

    Looking at the same customer again (another tab, a refresh) costs nothing. A search
    that found no customer counts under `search_key(...)` instead.
    """
    limit, window = settings.LOOKUP_RATE_LIMIT, settings.LOOKUP_RATE_WINDOW
    if not limit:
        return None
    key = f"ratelimit:lookup:{user_id}"
    now = time.time()
    seen: dict[int | str, float] = {
        cid: at for cid, at in (cache.get(key) or {}).items() if at > now - window
    }
    if customer_id in seen:
        return None
    if len(seen) >= limit:
        metrics.REFUSALS.labels("lookup_rate").inc()
        return max(1, int(min(seen.values()) + window - now) + 1)
    seen[customer_id] = now
    cache.set(key, seen, timeout=window)
    return None


def lookup_limit_wait(user_id: int) -> int | None:
    """Return seconds to wait when the user has used up the limit (before a search), else None."""
    limit, window = settings.LOOKUP_RATE_LIMIT, settings.LOOKUP_RATE_WINDOW
    if not limit:
        return None
    now = time.time()
    seen = cache.get(f"ratelimit:lookup:{user_id}") or {}
    live = [at for at in seen.values() if at > now - window]
    if len(live) >= limit:
        return max(1, int(min(live) + window - now) + 1)
    return None


def search_key(kind: str, value: str) -> str:
    """Return what a search that found nobody counts under: a keyed hash, never the value."""
    return "search:" + salted_hmac("lookup.throttle.search", f"{kind}:{value}").hexdigest()[:24]


def _login_keys(username: str, ip: str | None) -> list[str]:
    # Hashed, so neither usernames nor addresses sit in the cache in clear.
    name = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    keys = [f"login-fail:user:{name}"]
    if ip:
        keys.append(f"login-fail:ip:{hashlib.sha256(ip.encode()).hexdigest()[:32]}")
    return keys


def login_blocked(username: str, ip: str | None) -> bool:
    limit = settings.LOGIN_FAILURE_LIMIT
    counts = cache.get_many(_login_keys(username, ip))
    return any(count >= limit for count in counts.values())


def login_failed(username: str, ip: str | None) -> None:
    for key in _login_keys(username, ip):
        if not cache.add(key, 1, timeout=settings.LOGIN_FAILURE_WINDOW):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, timeout=settings.LOGIN_FAILURE_WINDOW)


class ThrottledAuthenticationForm(AuthenticationForm):
    """The sign-in form, refusing to check passwords after repeated failures."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": (
            "Too many failed sign-ins for this account or from this address. "
            "Wait %(minutes)s minutes and try again, or ask an admin."
        ),
    }

    def clean(self):  # noqa: ANN201
        username = self.cleaned_data.get("username") or ""
        ip = audit.client_ip(self.request) if self.request is not None else None
        if login_blocked(username, ip):
            metrics.REFUSALS.labels("login_throttle").inc()
            self._record(audit.Outcome.RATE_LIMITED, "sign-in throttled")
            raise forms.ValidationError(
                self.error_messages["throttled"],
                code="throttled",
                params={"minutes": max(1, settings.LOGIN_FAILURE_WINDOW // 60)},
            )
        try:
            return super().clean()
        except forms.ValidationError:
            if username:
                login_failed(username, ip)
            self._record(audit.Outcome.DENIED, "sign-in failed")
            raise

    def _record(self, outcome: str, detail: str) -> None:
        # Not the username typed: people sometimes type their password into that box.
        if self.request is not None:
            audit.record(self.request, audit.Action.DENIED, outcome=outcome, detail=detail)
