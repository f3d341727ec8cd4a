"""At most one upstream fetch of a part at a time, across threads, processes and instances.

In a process, a fetch is a `Flight` registered under the key of every part it will
store; a thread that needs any of those parts waits on that flight instead of calling.
Across processes, each part's key has a lock in the shared cache (`cache.add`); a process
that finds a part locked waits for the holder's answer to land in the cache.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache

# Added to a fetch's deadline for a lock's lifetime and a waiter's patience.
LOCK_MARGIN_SECONDS = 2.0


class Flight:
    """One fetch in this process; `results` maps each part key to its data or error."""

    def __init__(self, keys: Iterable[str]) -> None:
        self.keys = frozenset(keys)
        self.done = threading.Event()
        self.results: dict[str, Any] = {}
        self.error: BaseException | None = None

    def result(self, key: str, timeout: float) -> Any:
        """Wait for the flight; return the key's data or error (raise when the fetch crashed)."""
        if not self.done.wait(timeout):
            return None
        if self.error is not None:
            raise self.error
        return self.results.get(key)


class Flights:
    """The fetches in flight in this process, by part key."""

    def __init__(self) -> None:
        self._by_key: dict[str, Flight] = {}
        self._lock = threading.Lock()

    def join_or_lead(self, keys: Iterable[str]) -> tuple[dict[str, Flight], Flight | None]:
        """Return the flights to wait on, by key, and a new flight for the keys none covers."""
        with self._lock:
            joined = {key: self._by_key[key] for key in keys if key in self._by_key}
            rest = [key for key in keys if key not in joined]
            if not rest:
                return joined, None
            flight = Flight(rest)
            for key in rest:
                self._by_key[key] = flight
            return joined, flight

    def land(
        self, flight: Flight, results: dict[str, Any], error: BaseException | None = None
    ) -> None:
        """Finish the flight: its waiters wake, and the next request starts a new one."""
        with self._lock:
            for key in flight.keys:
                if self._by_key.get(key) is flight:
                    del self._by_key[key]
        flight.results, flight.error = results, error
        flight.done.set()

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_key)


flights = Flights()


def lock_key(key: str) -> str:
    return f"{key}:lock"


def acquire(key: str, ttl: float) -> str | None:
    """Take the key's fetch lock in the shared cache; return its token, or None if held."""
    token = secrets.token_hex(8)
    return token if cache.add(lock_key(key), token, timeout=max(1, int(ttl + 0.999))) else None


def release(tokens: dict[str, str]) -> None:
    """Drop each lock that is still ours.

    A lock outlives its holder only when the fetch overran its deadline plus the margin;
    between the read and the delete another process could take such a lock, and would then
    fetch once more: the cost of that rare race is one extra call, never a wrong answer.
    """
    if not tokens:
        return
    names = {lock_key(key): token for key, token in tokens.items()}
    held = cache.get_many(list(names))
    mine = [name for name, token in names.items() if held.get(name) == token]
    if mine:
        cache.delete_many(mine)


def locked(keys: Iterable[str]) -> set[str]:
    """Return which of the keys another fetch holds a lock on now."""
    names = {lock_key(key): key for key in keys}
    return {names[name] for name in cache.get_many(list(names))}
