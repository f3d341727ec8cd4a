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

from lookup import services
from lookup.capillary import CustomerQuery
from lookup.services import singleflight, store, upstream
from tests.conftest import CUSTOMER as SEED
from tests.conftest import IN_CI, calls

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"


@pytest.fixture(autouse=True)
def _forget_process_state():
    upstream.forget_budgets()
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
    results = _together(10, lambda: services.fetch_customer(org, query, refresh=True))
    assert {r.customer.id for r in results} == {SEED}
    assert calls(slow_sandbox) == 2


def test_waits_for_other_holder(org, sandbox):
    """A fetch whose key is locked elsewhere waits, then takes the answer from the store."""
    query = CustomerQuery(customer_id=SEED)
    key = store.entry_key(org.pk, query)
    token = singleflight.acquire(key, 10)
    generation = store.read(org.pk, query)[1]

    def other_process() -> None:
        time.sleep(0.3)
        result = services.client_for(org).get_customer(query)
        answer = store.Answer(query, result.raw_text, result.customer)
        store.write_many(
            org.pk, [answer], request_id=result.request_id, path=result.path,
            params=result.params, fetched_at=store.now(), generation=generation,
        )  # fmt: skip
        singleflight.release({key: token})

    holder = threading.Thread(target=other_process)
    holder.start()
    data = services.fetch_customer(org, query)
    holder.join()
    assert data.from_cache and data.customer.id == SEED
    assert calls(sandbox) == 1


def test_dead_holder_lock_expires(org, sandbox):
    query = CustomerQuery(customer_id=SEED)
    key = store.entry_key(org.pk, query)
    assert django_cache.add(singleflight.lock_key(key), "holder-that-died", timeout=1)
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
    """A lock another holder took after ours expired stays when we release ours."""
    key = "release-test"
    token = singleflight.acquire(key, 5)
    assert token and singleflight.locked([key]) == {key}
    assert singleflight.acquire(key, 5) is None  # held: no second token
    singleflight.release({key: token})
    assert not singleflight.locked([key])

    stale = singleflight.acquire(key, 5)
    django_cache.set(singleflight.lock_key(key), "someone-else", timeout=5)  # expired, retaken
    singleflight.release({key: stale})
    assert singleflight.locked([key]) == {key}
    django_cache.delete(singleflight.lock_key(key))


def test_an_answer_stored_before_the_lock_is_taken_is_used(org, sandbox):
    """A process that takes a lock just after another stored its answer makes no call."""
    query = CustomerQuery(customer_id=SEED)
    services.fetch_customer(org, query)
    copy, generation = store.read(org.pk, query)
    result = services.client_for(org).get_customer(query)
    before = calls(sandbox)
    later = store.Answer(query, result.raw_text, result.customer)
    store.write_many(
        org.pk, [later], request_id="newer", path=result.path, params=result.params,
        fetched_at=copy.fetched_at + 1, generation=generation,
    )  # fmt: skip
    data = services.fetch(org, {"part": query}, refresh=True)["part"]
    # A refresh makes its own call; a load that started from the older copy takes the newer.
    assert not data.from_cache and calls(sandbox) == before + 1
    got = services._lead(org, {query: (copy, generation)}, wait=True)[query]
    assert got.from_cache and calls(sandbox) == before + 1


def test_a_fetch_leaves_no_lock(org, sandbox):
    query = CustomerQuery(customer_id=SEED, embed=frozenset({"points"}))
    services.fetch_customer(org, query)
    assert not singleflight.locked([store.entry_key(org.pk, query)])
    assert store.read(org.pk, query)[0] is not None


def test_a_free_lock_beside_a_held_one_is_not_taken(org, sandbox, monkeypatch):
    # Another process takes a call's locks one at a time: holding the first part's lock, it
    # is about to take the second's. A waiter must not take that one and make a second call.
    first = CustomerQuery(customer_id=SEED, embed=frozenset({"points"}))
    second = CustomerQuery(customer_id=SEED, embed=frozenset({"mlp"}))
    found = store.read_many(org.pk, [first, second])
    needs = {first: found[first], second: found[second]}
    key = store.entry_key(org.pk, first)
    token = singleflight.acquire(key, 30)
    assert token is not None
    polls = threading.Semaphore(0)
    real_locked = singleflight.locked

    def locked(keys):
        held = real_locked(keys)
        polls.release()
        return held

    monkeypatch.setattr(singleflight, "locked", locked)
    before = calls(sandbox)
    results: dict = {}
    waiter = threading.Thread(target=lambda: results.update(services._wait_elsewhere(org, needs)))
    waiter.start()
    for _ in range(3):  # it has looked at the locks three times, and called no one
        assert polls.acquire(timeout=30)
    assert calls(sandbox) == before
    # The other process answers both parts in one call and lets go.
    call = CustomerQuery(customer_id=SEED, embed=frozenset({"points", "mlp"}))
    answer = services.client_for(org).get_customer(call)
    services.keep(org, answer, call, [first, second], generation=found[first][1])
    singleflight.release({key: token})
    waiter.join(30)
    assert calls(sandbox) == before + 1  # that one call, none of the waiter's
    assert all(results[q].from_cache for q in (first, second))
