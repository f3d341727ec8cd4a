"""Django's RedisCache, with one Redis client per process instead of one per thread and call.

Django keeps a cache backend per thread, and its Redis backend builds a connection pool per
backend and a new `redis.Redis` object for every cache call. Under gunicorn's threads (64 a
worker, plus the threads fetching a page's parts) that meant a pool and a connection per
thread, each opened with a handshake, and a client object built about twenty times a page.
Here every thread of a process shares one client and its (thread-safe) pool; keys, values,
timeouts and the cache API are Django's own.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django.utils.functional import cached_property

_shared: dict[tuple, SharedRedisClient] = {}
_shared_lock = threading.Lock()


class SharedRedisClient(RedisCacheClient):
    """A RedisCacheClient that hands out the same `redis.Redis` for each server every time."""

    def __init__(self, servers: list[str], **options: Any) -> None:
        super().__init__(servers, **options)
        self._clients: dict[int, Any] = {}
        self._clients_lock = threading.Lock()

    def get_client(self, key: str | None = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            with self._clients_lock:
                client = self._clients.get(index)
                if client is None:
                    pool = self._get_connection_pool(write)
                    client = self._clients[index] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    """`django.core.cache.backends.redis.RedisCache` sharing one client across threads."""

    @cached_property
    def _cache(self) -> SharedRedisClient:
        identity = (tuple(self._servers), repr(sorted(self._options.items())))
        with _shared_lock:
            client = _shared.get(identity)
            if client is None:
                client = _shared[identity] = SharedRedisClient(self._servers, **self._options)
            return client


def forget_clients() -> None:
    """Drop the shared clients (tests that point the cache at another server)."""
    with _shared_lock:
        for client in _shared.values():
            for pool in client._pools.values():
                pool.disconnect()
        _shared.clear()
