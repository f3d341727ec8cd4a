"""One upstream call per key at a time: across threads, across processes, after a dead holder."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.core.cache import cache as django_cache

from lookup import cache, resilience, services
from lookup.capillary import CustomerQuery
from tests.conftest import IN_CI
from tests.test_cache import SEED, calls, clock  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"


@pytest.fixture(autouse=True)
def _forget_process_state():
    resilience.forget_budgets()
    yield
    services.wait_for_refreshes()


@pytest.fixture
def slow_sandbox(sandbox):
    sandbox.set_latency(300)
    yield sandbox
    sandbox.set_latency(0)


def _together(count: int, work) -> list:
    """Run `work()` in `count` threads released at the same moment; return the results."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work()
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_threads_share_one_call(org, slow_sandbox):
    query = CustomerQuery(customer_id=SEED, embed="points")
    results = _together(20, lambda: services.fetch_customer(org, query))
    assert {r.customer.id for r in results} == {SEED}
    assert calls(slow_sandbox) == 1


def test_refresh_still_single_flights(org, slow_sandbox):
    query = CustomerQuery(customer_id=SEED)
    services.fetch_customer(org, query)
    results = _together(10, lambda: services.fetch_many(org, [query], refresh=True)[query])
    assert {r.customer.id for r in results} == {SEED}
    assert calls(slow_sandbox) == 2


def test_waits_for_other_holder(org, sandbox):
    """A fetch whose key is locked elsewhere waits, then takes the answer from the cache."""
    query = CustomerQuery(customer_id=SEED)
    key = cache.entry_key(org.pk, query)
    token = cache.acquire(key, 10)
    generation = cache.read(org.pk, query)[1]

    def other_process() -> None:
        time.sleep(0.3)
        result = services.client_for(org).get_customer(query)
        cache.write(
            org.pk, query, raw_text=result.raw_text, request_id=result.request_id,
            path=result.path, params=result.params, fetched_at=cache.now(),
            generation=generation, customer=result.customer,
        )  # fmt: skip
        cache.release(key, token)

    holder = threading.Thread(target=other_process)
    holder.start()
    data = services.fetch_customer(org, query)
    holder.join()
    assert data.from_cache and data.customer.id == SEED
    assert calls(sandbox) == 1


def test_dead_holder_lock_expires(org, sandbox):
    query = CustomerQuery(customer_id=SEED)
    key = cache.entry_key(org.pk, query)
    assert django_cache.add(cache.lock_key(key), "holder-that-died", timeout=1)
    data = services.fetch_customer(org, query)  # waits out the lock, then fetches itself
    assert not data.from_cache and data.customer.id == SEED
    assert calls(sandbox) == 1


def test_stale_while_revalidate(org, slow_sandbox, clock):  # noqa: F811
    query = CustomerQuery(customer_id=SEED)
    services.fetch_customer(org, query)
    clock.advance(61)
    served = [services.fetch_customer(org, query) for _ in range(10)]
    assert all(s.from_cache and s.revalidating for s in served)
    assert services.wait_for_refreshes()
    assert calls(slow_sandbox) == 2
    fresh = services.fetch_customer(org, query)
    assert fresh.from_cache and not fresh.revalidating


# -- across processes sharing Redis -------------------------------------------------------------

CHILD = """
import os, sys, time
import django
django.setup()
from lookup import services
from lookup.capillary import CustomerQuery
from lookup.models import Org
org = Org(pk=987654, name="x", slug="x", base_url=sys.argv[1], till_username="demo.till",
          time_zone="UTC", deadline=5.0)
org.set_till_password("demo-password")
start = float(sys.argv[2])
time.sleep(max(0.0, start - time.time()))
data = services.fetch_customer(org, CustomerQuery(customer_id=int(sys.argv[3])))
print(data.customer.id, data.from_cache)
"""


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.redis
def test_processes_share_one_call(slow_sandbox):
    if not os.environ.get("REDIS_URL") and not _redis_up():
        if IN_CI:
            pytest.fail("Redis is needed for the cross-process single-flight test in CI")
        pytest.skip("Redis is not running at 127.0.0.1:6379 (and REDIS_URL is not set)")
    prefix = f"sf-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "REDIS_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": prefix,
        "DJANGO_SETTINGS_MODULE": "lookup.settings",
    }
    start = str(time.time() + 2.0)  # both children import Django first, then go together
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, slow_sandbox.url, start, str(SEED)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [child.communicate(timeout=60) for child in children]
    try:
        assert [c.returncode for c in children] == [0, 0], [o[1][-2000:] for o in outputs]
        answers = sorted(o[0].split()[-1] for o in outputs)
        assert answers == ["False", "True"]  # one fetched, the other took its answer
        assert calls(slow_sandbox) == 1
    finally:
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)


def test_release_drops_only_our_own_lock():
    """On either backend (Redis: one atomic script), a lock another holder took stays."""
    from django.core.cache import cache as django_cache

    from lookup import cache as entries

    key = "release-test"
    token = entries.acquire(key, 5)
    assert token and entries.is_locked(key)
    entries.release(key, token)
    assert not entries.is_locked(key)

    stale = entries.acquire(key, 5)
    django_cache.set(entries.lock_key(key), "someone-else", timeout=5)  # ours expired, retaken
    entries.release(key, stale)
    assert entries.is_locked(key)
    django_cache.delete(entries.lock_key(key))


def test_lock_and_entry_read_together(org, sandbox):
    """acquire_and_read takes the lock and sees an answer stored just before it (both backends)."""
    query = CustomerQuery(customer_id=SEED)
    key = cache.entry_key(org.pk, query)
    token, entry, generation = cache.acquire_and_read(org.pk, query, 10)
    assert token and entry is None and generation
    assert cache.acquire_and_read(org.pk, query, 10)[0] is None  # held: no second token
    result = services.client_for(org).get_customer(query)
    stored = cache.write(
        org.pk, query, raw_text=result.raw_text, request_id=result.request_id,
        path=result.path, params=result.params, fetched_at=cache.now(),
        generation=generation, customer=result.customer, release_token=token,
    )  # fmt: skip
    assert stored is not None and not cache.is_locked(key)  # written and released together
    again, entry, same = cache.acquire_and_read(org.pk, query, 10)
    assert again and same == generation and entry.fetched_at == stored.fetched_at
    # A write whose lock expired and was retaken leaves the new holder's lock alone.
    django_cache.set(cache.lock_key(key), "someone-else", timeout=5)
    cache.write(
        org.pk, query, raw_text=result.raw_text, request_id=result.request_id,
        path=result.path, params=result.params, fetched_at=cache.now(),
        generation=generation, customer=result.customer, release_token=again,
    )  # fmt: skip
    assert django_cache.get(cache.lock_key(key)) == "someone-else"


def test_a_fetch_leaves_no_lock(org, sandbox):
    query = CustomerQuery(customer_id=SEED, embed=frozenset({"points"}))
    services.fetch_customer(org, query)
    assert not cache.is_locked(cache.entry_key(org.pk, query))
    assert cache.read(org.pk, query)[0] is not None
