"""Two instances, started as `make serve` starts them, sharing one PostgreSQL and one Redis."""

from __future__ import annotations

import http.cookies
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from pathlib import Path

import pytest

from bench.servers import customers, free_port

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.postgres, pytest.mark.redis]
PASSWORD = "bench-pass-2026"  # the user bench.prepare makes


class Browser:
    """Cookies kept by hand: the instances run in production, whose cookies are HTTPS-only."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def request(self, url: str, data: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(url, data=body)
        if self.cookies:
            request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=60) as response:
                status, text, headers = response.status, response.read().decode(), response.headers
        except urllib.error.HTTPError as error:
            status, text, headers = error.code, error.read().decode(), error.headers
        for header in headers.get_all("Set-Cookie") or []:
            for name, morsel in http.cookies.SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return status, text


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture
def cluster(postgres_url, redis_url, sandbox, tmp_path):
    """Start two instances of scripts/serve.sh on a fresh database; yield their URLs and more."""
    import psycopg
    from cryptography.fernet import Fernet

    name = f"scaleout_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database_url = urllib.parse.urlsplit(postgres_url)._replace(path=f"/{name}").geturl()
    env = {
        **os.environ,
        "LOOKUP_ENV": "production",
        "SECRET_KEY": uuid.uuid4().hex * 2,
        "LOOKUP_FERNET_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": name,
        "LOOKUP_DATA_DIR": str(tmp_path),
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "8",
        "LOG_LEVEL": "WARNING",
        "METRICS_TOKEN": "scale-out",
        # Short, so the breaker the test opens lets a probe through again within the test.
        "BREAKER_COOLDOWN_SECONDS": "4",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    prepare = [sys.executable, "-m", "bench.prepare", sandbox.url]
    subprocess.run(prepare, cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    procs, bases = [], []
    for index in range(2):
        port = free_port()
        log = open(tmp_path / f"serve-{index}.log", "w")  # noqa: SIM115
        procs.append(
            subprocess.Popen(
                ["bash", "scripts/serve.sh"],
                cwd=ROOT,
                # Each its own STATIC_ROOT, as on two machines: collectstatic rewrites files
                # that a running instance's WhiteNoise is reading.
                env={**env, "PORT": str(port), "STATIC_ROOT": str(tmp_path / f"static-{index}")},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        bases.append(f"http://127.0.0.1:{port}")
    try:
        for base, proc in zip(bases, procs, strict=True):
            _wait_ready(base, proc, tmp_path)
        yield {"a": bases[0], "b": bases[1], "procs": procs, "database": database_url}
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        sandbox.set_latency(0)
        import redis

        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(f"{name}*"))
        if keys:
            client.delete(*keys)
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _wait_ready(base: str, proc: subprocess.Popen, logs: Path) -> None:
    give_up = time.monotonic() + 45
    while time.monotonic() < give_up:
        if proc.poll() is not None:
            output = "".join(p.read_text() for p in logs.glob("serve-*.log"))
            pytest.fail(f"an instance exited with {proc.returncode}:\n{output}")
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"{base} was not ready within 45 s")


def _sign_in(base: str) -> Browser:
    browser = Browser()
    status, text = browser.request(base + "/login/")
    assert status == HTTPStatus.OK
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text).group(1)
    form = {"username": "bench", "password": PASSWORD, "csrfmiddlewaretoken": token}
    status, _text = browser.request(base + "/login/", form)
    assert status == HTTPStatus.FOUND, "sign-in failed"
    return browser


def _audited(database_url: str, customer_id: int) -> int:
    import psycopg

    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM lookup_auditrecord WHERE customer_id = %s AND action = 'lookup'",
            [customer_id],
        ).fetchone()
    return row[0]


def page(base: str, customer_id: int) -> str:
    return f"{base}/customers/{customer_id}/?source=INSTORE"


def test_scale_out(cluster, sandbox):
    a, b = cluster["a"], cluster["b"]
    cold, *others = customers(100000100, 8)

    # Signed in on A, the same session works on B.
    browser = _sign_in(a)
    status, text = browser.request(b + "/")
    assert status == HTTPStatus.OK
    assert "Find a customer" in text

    # 50 agents open one cold customer at once, spread over both instances: one call.
    sandbox.set_latency(300)
    barrier = threading.Barrier(50)

    def look(index: int) -> int:
        barrier.wait()
        return browser.request(page(a if index % 2 else b, cold))[0]

    with ThreadPoolExecutor(50) as pool:
        statuses = list(pool.map(look, range(50)))
    sandbox.set_latency(0)
    assert statuses == [HTTPStatus.OK] * 50
    assert sandbox.customer_calls(cold) == 1
    assert _audited(cluster["database"], cold) == 50

    # A breaker opened through A is seen by B: B does not call Capillary.
    failing = list(range(900200001, 900200013))
    for customer_id in failing:
        sandbox.set_fault(customer_id, "http_500")
    for customer_id in failing:
        browser.request(page(a, customer_id))
    with urllib.request.urlopen(b + "/readyz", timeout=5) as response:
        assert b'"breaker": "open"' in response.read()
    status, text = browser.request(page(b, others[0]))
    assert status == HTTPStatus.SERVICE_UNAVAILABLE
    assert "We stopped calling Capillary for this org" in text
    assert sandbox.customer_calls(others[0]) == 0
    for base, openings in ((a, "1.0"), (b, None)):
        metrics = urllib.request.Request(base + "/metrics")
        metrics.add_header("Authorization", "Bearer scale-out")
        with urllib.request.urlopen(metrics, timeout=5) as response:
            text = response.read().decode()
        assert 'lookup_breaker_state{org="bench",state="open"} 1.0' in text
        if openings:
            assert f'lookup_breaker_openings_total{{org="bench"}} {openings}' in text

    # After the cooldown one probe closes it again; then SIGTERM to A while lookups are in
    # flight: each is answered, and audited, before A stops.
    time.sleep(4.5)
    assert browser.request(page(b, others[0]))[0] == HTTPStatus.OK
    sandbox.set_latency(1500)
    slow = others[1:7]
    with ThreadPoolExecutor(len(slow)) as pool:
        futures = [pool.submit(browser.request, page(a, cid)) for cid in slow]
        time.sleep(0.7)
        cluster["procs"][0].send_signal(signal.SIGTERM)
        answers = [future.result()[0] for future in futures]
    assert answers == [HTTPStatus.OK] * len(slow)
    assert [_audited(cluster["database"], cid) for cid in slow] == [1] * len(slow)
    assert cluster["procs"][0].wait(30) == 0
