"""Placeholder breaker with the service layer's interface (replaced by the windowed one)."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache

from lookup.capillary.errors import UpstreamError
from lookup.services import store


class CircuitOpen(UpstreamError):
    status = 503
    title = "Paused calls to Capillary"
    default_message = "We stopped calling Capillary for this org after repeated failures."
    retryable = False
    ours = True

    def __init__(self, seconds: float, **kwargs) -> None:
        wait = max(1, round(seconds))
        super().__init__(
            f"We stopped calling Capillary for this org for {wait} s after repeated failures.",
            retry_after=wait,
            **kwargs,
        )


def _keys(org_id: int) -> tuple[str, str]:
    base = f"{store.NAMESPACE}:org:{org_id}"
    return f"{base}:open-until", f"{base}:fails"


def blocked(org_id: int) -> CircuitOpen | None:
    until = cache.get(_keys(org_id)[0])
    if until is not None and store.now() < until:
        return CircuitOpen(until - store.now())
    return None


def before_call(org_id: int) -> str | None:
    error = blocked(org_id)
    if error is not None:
        raise error
    return None


def counts_as_failure(error: BaseException | None) -> bool:
    return isinstance(error, UpstreamError) and not isinstance(error, CircuitOpen)


def record(org_id: int, customer_id: int, error: BaseException | None, probe: str | None) -> None:
    open_key, fails = _keys(org_id)
    if not counts_as_failure(error):
        cache.delete(fails)
        return
    cache.add(fails, 0, timeout=None)
    if cache.incr(fails) >= settings.BREAKER_FAILURES:
        cache.add(open_key, store.now() + settings.BREAKER_COOLDOWN_SECONDS, timeout=None)


def reset(org_id: int) -> None:
    cache.delete_many(list(_keys(org_id)))
