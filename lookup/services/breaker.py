"""The circuit breaker per org: stop calling Capillary when it is failing for many customers.

The breaker decides from the failure rate over a count-based sliding window (the model of
Resilience4j's count-based window): the last BREAKER_WINDOW_CALLS calls that are younger than
BREAKER_WINDOW_SECONDS. It opens when the window holds at least BREAKER_MIN_CALLS calls, at
least BREAKER_FAILURE_RATE of them failed, and the failures span at least
BREAKER_MIN_CUSTOMERS distinct customers, so one customer whose record Capillary cannot
serve never pauses the org for everyone. Open, it refuses calls for BREAKER_COOLDOWN_SECONDS;
then exactly one probe call goes through, and its outcome closes the breaker (clearing the
window) or opens it again.

State lives in the Django cache, so every worker and instance sharing it sees one breaker:
per org a sequence counter (cache.incr), a ring of BREAKER_WINDOW_CALLS slots keyed by the
call's sequence number modulo the window size, the open state, and the probe lock
(cache.add). The whole window is one get_many.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

from lookup.capillary.errors import (
    CapillaryError,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)

PREFIX = "capillary:breaker:v1"
# Capillary's own error code for "please retry later" (also sent as HTTP 521).
RETRY_LATER_CODE = 521

# The clock the breaker reads; tests replace it to move time by hand.
clock: Callable[[], float] = time.time


def now() -> float:
    return clock()


class CircuitOpen(UpstreamError):
    """We paused calls to Capillary for this org after repeated failures (not Capillary's ask)."""

    status = 503
    title = "Paused calls to Capillary"
    default_message = "We stopped calling Capillary for this org after repeated failures."
    retryable = False
    # The pause is the dashboard's own decision, not an answer from Capillary.
    ours = True

    def __init__(self, seconds: float, **kwargs: Any) -> None:
        wait = max(1, round(seconds))
        super().__init__(
            f"We stopped calling Capillary for this org for {wait} s after repeated failures.",
            retry_after=wait,
            **kwargs,
        )


@dataclass(frozen=True)
class Window:
    """One org's breaker as the cache holds it now: the window's counts and the state."""

    calls: int
    failures: int
    # Distinct customers among the window's failed calls.
    customers: int
    state: str  # "closed", "open" or "half-open"
    open_until: float | None
    last_opened_at: float | None
    last_reason: str
    probing: bool = False

    @property
    def failure_rate(self) -> float:
        return self.failures / self.calls if self.calls else 0.0


@dataclass(frozen=True)
class _Slot:
    seq: int
    at: float
    failed: bool
    customer: str
    label: str


def counts_as_failure(error: BaseException | None) -> bool:
    """Return whether a call's error says Capillary itself is unhealthy.

    Connection errors, timeouts, HTTP 5xx (521 included) and Capillary's "retry later" code
    521 count. Any other answer means Capillary answered: not found, deleted, merged, 4xx,
    rate limits, and unreadable answers (bad JSON, truncated, oversized, a redirect). An
    unreadable answer that came with a 5xx status (a gateway's HTML error page) counts by
    its status.
    """
    if error is None or getattr(error, "ours", False):
        return False
    if isinstance(error, UpstreamTimeout):
        return True
    if isinstance(error, UpstreamUnavailable) and error.upstream_status is None:
        return True
    if not isinstance(error, UpstreamError) or isinstance(error, RateLimited):
        return False
    status = error.upstream_status
    return (status is not None and status >= 500) or error.code == RETRY_LATER_CODE


def _label(error: BaseException) -> str:
    """Return a few words naming a counted failure ("HTTP 503", "timeout")."""
    if isinstance(error, UpstreamTimeout):
        return "timeout"
    status = getattr(error, "upstream_status", None)
    if status is None:
        return "connection failed"
    return f"HTTP {status}"


# -- keys ---------------------------------------------------------------------------------------


def _base(org_id: int) -> str:
    return f"{PREFIX}:org:{org_id}"


def _seq_key(org_id: int) -> str:
    return f"{_base(org_id)}:seq"


def _state_key(org_id: int) -> str:
    return f"{_base(org_id)}:state"


def _probe_key(org_id: int) -> str:
    return f"{_base(org_id)}:probe"


def _slot_keys(org_id: int) -> list[str]:
    return [f"{_base(org_id)}:slot:{i}" for i in range(settings.BREAKER_WINDOW_CALLS)]


# -- reading ------------------------------------------------------------------------------------


def _state_of(stored: Any) -> dict[str, Any]:
    """Return the stored state with every field present (the breaker starts closed)."""
    state = {"open_until": None, "since": 0, "last_opened_at": None, "last_reason": ""}
    if isinstance(stored, dict):
        state.update(stored)
    return state


def _phase(state: dict[str, Any], at: float) -> str:
    open_until = state["open_until"]
    if open_until is None:
        return "closed"
    return "open" if at < open_until else "half-open"


def _slots(found: dict[str, Any], org_id: int, since: int, at: float) -> list[_Slot]:
    """Return the window: the slots of the last calls, after `since`, young enough."""
    last = found.get(_seq_key(org_id))
    if not isinstance(last, int):
        return []
    if since > last:
        since = 0  # the counter was evicted and started again
    size = settings.BREAKER_WINDOW_CALLS
    oldest = max(last - size, since)
    young = at - settings.BREAKER_WINDOW_SECONDS
    slots = []
    for key in _slot_keys(org_id):
        slot = _slot_of(found.get(key))
        # A slot written before a reset or for an older lap of the ring is skipped by its
        # sequence number; a call older than the window's age by its time.
        if slot is not None and oldest < slot.seq <= last and slot.at > young:
            slots.append(slot)
    return slots


def _slot_of(stored: Any) -> _Slot | None:
    """Return a stored slot (a plain tuple in the cache, so any version can read it)."""
    if not isinstance(stored, tuple | list) or len(stored) != 5:
        return None
    seq, at, failed, customer, label = stored
    if not isinstance(seq, int) or not isinstance(at, int | float):
        return None
    return _Slot(seq, float(at), bool(failed), str(customer), str(label))


def _read(org_id: int) -> tuple[dict[str, Any], list[_Slot], bool, float]:
    """Read the org's state, window and probe lock in one round trip."""
    keys = [_seq_key(org_id), _state_key(org_id), _probe_key(org_id), *_slot_keys(org_id)]
    found = cache.get_many(keys)
    at = now()
    state = _state_of(found.get(_state_key(org_id)))
    return state, _slots(found, org_id, state["since"], at), _probe_key(org_id) in found, at


def window(org_id: int) -> Window:
    """Return the org's window and breaker state (one cache read; the ops page, banners)."""
    state, slots, probing, at = _read(org_id)
    failed = [slot for slot in slots if slot.failed]
    return Window(
        calls=len(slots),
        failures=len(failed),
        customers=len({slot.customer for slot in failed}),
        state=_phase(state, at),
        open_until=state["open_until"],
        last_opened_at=state["last_opened_at"],
        last_reason=state["last_reason"],
        probing=probing,
    )


def _probe_wait() -> float:
    """Return the wait to announce while another call is the half-open probe."""
    return max(1.0, settings.BREAKER_COOLDOWN_SECONDS / 10)


def blocked(org_id: int) -> CircuitOpen | None:
    """Return the error a call for this org would get now, without calling, or None."""
    state = _state_of(cache.get(_state_key(org_id)))
    at = now()
    phase = _phase(state, at)
    if phase == "open":
        return CircuitOpen(state["open_until"] - at)
    if phase == "half-open" and cache.get(_probe_key(org_id)) is not None:
        return CircuitOpen(_probe_wait())
    return None


# -- calling ------------------------------------------------------------------------------------


def before_call(org_id: int) -> str | None:
    """Check the breaker before calling Capillary for the org.

    Raise CircuitOpen while the breaker is open, and while it is half-open and another call
    is the probe. Return a probe token when this call is the half-open probe (pass it to
    `record`), else None.
    """
    state = _state_of(cache.get(_state_key(org_id)))
    at = now()
    phase = _phase(state, at)
    if phase == "closed":
        return None
    if phase == "open":
        raise CircuitOpen(state["open_until"] - at)
    token = secrets.token_hex(8)
    # The lock outlives a probe that dies without an answer by at most one cooldown.
    timeout = max(1, int(settings.BREAKER_COOLDOWN_SECONDS + 0.999))
    if cache.add(_probe_key(org_id), token, timeout=timeout):
        return token
    raise CircuitOpen(_probe_wait())


def release(org_id: int, probe: str | None) -> None:
    """Give back an unused probe (the call was never made), so another call may probe."""
    if probe is not None and cache.get(_probe_key(org_id)) == probe:
        cache.delete(_probe_key(org_id))


def _next_seq(org_id: int) -> int:
    key = _seq_key(org_id)
    cache.add(key, 0, timeout=None)
    try:
        return cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=None)
        return 1


def record(
    org_id: int, customer_id: int | str, error: BaseException | None, probe: str | None
) -> bool:
    """Record the outcome of one upstream call (error None: success) and apply the rule.

    Call it once per call to Capillary, after any retries, with the probe token
    `before_call` returned. An error that is not Capillary's answer (a bug in the
    dashboard, an interrupt, our own pause) is no outcome: the probe is only given back.
    Return whether this outcome opened the breaker.
    """
    if not isinstance(error, CapillaryError | None) or getattr(error, "ours", False):
        release(org_id, probe)
        return False
    failed = counts_as_failure(error)
    seq = _next_seq(org_id)
    at = now()
    slot = _Slot(seq, at, failed, str(customer_id), _label(error) if failed else "")
    index = seq % settings.BREAKER_WINDOW_CALLS
    timeout = max(1, int(settings.BREAKER_WINDOW_SECONDS + 0.999)) + 1
    stored = (slot.seq, slot.at, slot.failed, slot.customer, slot.label)
    cache.set(f"{_base(org_id)}:slot:{index}", stored, timeout=timeout)
    state = _state_of(cache.get(_state_key(org_id))) if probe is not None else None
    if state is not None and state["open_until"] is not None:
        # The probe's answer decides, unless the breaker was closed (reset) meanwhile.
        if failed:
            reason = f"the probe call failed: {slot.label}"
            _open(org_id, state, at, reason)
        else:
            # Closed, with a clean window: the failures that opened it are history.
            state.update(open_until=None, since=seq)
            cache.set(_state_key(org_id), state, timeout=None)
        release(org_id, probe)
        return failed
    release(org_id, probe)
    if not failed:
        return False
    state, slots, _probing, at = _read(org_id)
    if _phase(state, at) != "closed":
        return False  # a call that started before the breaker opened
    reason = _opening_reason(slots)
    if reason:
        _open(org_id, state, at, reason)
    return bool(reason)


def _opening_reason(slots: list[_Slot]) -> str:
    """Return why the window opens the breaker ("12 of 20 calls failed ..."), or ""."""
    failed = [slot for slot in slots if slot.failed]
    customers = {slot.customer for slot in failed}
    if (
        len(slots) < settings.BREAKER_MIN_CALLS
        or len(failed) < settings.BREAKER_FAILURE_RATE * len(slots)
        or len(customers) < settings.BREAKER_MIN_CUSTOMERS
    ):
        return ""
    labels = ", ".join(label for label, _n in Counter(s.label for s in failed).most_common(3))
    return f"{len(failed)} of {len(slots)} calls failed across {len(customers)} customers: {labels}"


def _open(org_id: int, state: dict[str, Any], at: float, reason: str) -> None:
    state.update(
        open_until=at + settings.BREAKER_COOLDOWN_SECONDS, last_opened_at=at, last_reason=reason
    )
    cache.set(_state_key(org_id), state, timeout=None)


def reset(org_id: int) -> None:
    """Close the breaker and clear its window (the ops page's "Close now", tests).

    When and why it last opened is kept for the ops page.
    """
    state = _state_of(cache.get(_state_key(org_id)))
    kept = {"last_opened_at": state["last_opened_at"], "last_reason": state["last_reason"]}
    cache.delete_many([_seq_key(org_id), _probe_key(org_id), *_slot_keys(org_id)])
    cache.set(_state_key(org_id), _state_of(kept), timeout=None)
