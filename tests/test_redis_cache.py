"""The Redis cache backend: Django's RedisCache, one client and pool per process."""

from __future__ import annotations

import threading
import uuid

import pytest

from lookup import redis_cache


@pytest.fixture
def backend(redis_url):
    redis_cache.forget_clients()
    prefix = f"rc-test-{uuid.uuid4().hex[:8]}"
    made = []

    def make():
        made.append(redis_cache.RedisCache(redis_url, {"KEY_PREFIX": prefix}))
        return made[-1]

    yield make
    if made:
        client = made[0]._cache.get_client()
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)
    redis_cache.forget_clients()


def test_threads_share_one_client_and_connection(backend):
    """Django builds a backend per thread; they all use one client and one pool."""
    first = backend()
    first.set("shared", {"value": 1}, 30)
    clients, answers = [], []

    def worker():
        mine = backend()  # as django.core.cache.caches does, once per thread
        for _ in range(20):
            answers.append(mine.get("shared"))
        clients.append(mine._cache.get_client())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [{"value": 1}] * 160
    assert {id(client) for client in clients} == {id(first._cache.get_client())}
    pool = first._cache.get_client().connection_pool
    # Taking turns, the threads needed at most a handful of connections, not one each.
    assert len(pool._available_connections) + len(pool._in_use_connections) <= 8


def test_it_is_djangos_backend(backend):
    from django.core.cache.backends.redis import RedisCache

    cache = backend()
    assert isinstance(cache, RedisCache)
    assert cache.add("once", 1, 30) and not cache.add("once", 2, 30)
    assert cache.get_many(["once", "missing"]) == {"once": 1}
    assert cache.incr("once") == 2
    cache.delete("once")
    assert cache.get("once") is None


def test_different_servers_get_different_clients(backend, redis_url):
    one = backend()
    other = redis_cache.RedisCache(redis_url.rsplit("/", 1)[0] + "/14", {})
    assert one._cache is not other._cache
    assert one._cache is backend()._cache
