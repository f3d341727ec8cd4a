"""The benchmark's processes: the sandbox, the dashboard under gunicorn, and the load runs."""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from lookup.sandbox.generate import archetype_of

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SEED = 566881933  # the documented customer with the most to show
DEMO_BASIC = (
    "Basic "
    + base64.b64encode(b"demo.till:" + hashlib.md5(b"demo-password").hexdigest().encode()).decode()
)
GOOD_ARCHETYPES = {"typical", "many_programs", "many_cards", "long_history", "fraud"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, seconds: float = 30) -> None:
    give_up = time.monotonic() + seconds
    while time.monotonic() < give_up:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"bench: {url} did not answer within {seconds:.0f} s")


def customers(start: int, count: int) -> list[int]:
    """Return `count` generated customers (with an INSTORE profile) from `start` on."""
    out, cid = [], start
    while len(out) < count:
        if archetype_of(cid) in GOOD_ARCHETYPES:
            out.append(cid)
        cid += 1
    return out


def redis_ok(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_timeout=1).ping())
    except Exception:  # noqa: BLE001 - any failure means "run without Redis"
        return False


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="lookup-bench-"))
        self.prefix = f"bench-{uuid.uuid4().hex[:8]}"
        self.procs: list[subprocess.Popen] = []
        self.redis = redis_ok(args.redis_url)
        self.notes: list[str] = []
        self.sandbox_port = free_port()
        self.sandbox = f"http://127.0.0.1:{self.sandbox_port}"
        self.env = {
            **os.environ,
            "LOOKUP_ENV": "dev",
            "DEBUG": "false",
            "LOOKUP_DATA_DIR": str(self.tmp),
            "LOOKUP_BENCH": "1",
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "lookup.settings",
            "CACHE_KEY_PREFIX": self.prefix,
            # One bench user plays every agent: the per-user lookup limit would refuse it.
            "LOOKUP_RATE_LIMIT": "0",
        }
        for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "LOOKUP_FERNET_KEYS"):
            self.env.pop(name, None)
        if self.redis:
            self.env["REDIS_URL"] = args.redis_url
        else:
            self.notes.append("Redis unreachable: local-memory cache, coalescing not measured")

    # -- processes ------------------------------------------------------------------------------

    def spawn(self, argv: list[str], env: dict | None = None) -> subprocess.Popen:
        proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env or self.env,
            stdout=subprocess.DEVNULL,
            stderr=open(self.tmp / f"log-{len(self.procs)}.txt", "w"),  # noqa: SIM115
        )
        self.procs.append(proc)
        return proc

    def start_sandbox(self) -> subprocess.Popen:
        argv = [sys.executable, "-m", "lookup.sandbox", "--port", str(self.sandbox_port)]
        proc = self.spawn([*argv, "--latency-ms", str(self.args.latency_ms)])
        wait_for(self.sandbox + "/__sandbox/stats")
        return proc

    def start_dashboard(self, workers: int, **extra_env: str) -> tuple[str, subprocess.Popen]:
        port = free_port()
        argv = [
            str(BIN / "gunicorn"),
            "lookup.wsgi",
            "-k", "gthread",
            "--threads", str(self.args.threads),
            "-w", str(workers),
            "-b", f"127.0.0.1:{port}",
            "--log-level", "warning",
        ]  # fmt: skip
        proc = self.spawn(argv, {**self.env, **extra_env})
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/healthz")
        return base, proc

    def prepare(self) -> str:
        argv = [sys.executable, "-m", "bench.prepare", self.sandbox]
        done = subprocess.run(
            argv, cwd=ROOT, env=self.env, capture_output=True, text=True, check=True
        )
        return done.stdout.strip().splitlines()[-1]

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if self.redis:
            import redis

            client = redis.Redis.from_url(self.args.redis_url)
            # Every instance's keys, the isolation instance's own prefix included.
            keys = list(client.scan_iter(f"{self.prefix}*"))
            if keys:
                client.delete(*keys)
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- load -----------------------------------------------------------------------------------

    def load(self, urls: list[str], concurrency: int, **spec) -> dict:
        spec = {"urls": urls, "concurrency": concurrency, "cookie": self.cookie, **spec}
        done = subprocess.run(
            [sys.executable, "-m", "bench.load"],
            cwd=ROOT,
            input=json.dumps(spec),
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        return json.loads(done.stdout)

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
        """Return one answer's status and text, fetched as the signed-in bench user."""
        request = urllib.request.Request(url, headers={"Cookie": self.cookie, **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def fetch_text(self, url: str) -> str:
        """Return one page's HTML, fetched as the signed-in bench user."""
        request = urllib.request.Request(url, headers={"Cookie": self.cookie})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read().decode()

    def sandbox_control(self, path: str, body: dict | None = None) -> dict:
        method = "POST" if path == "reset" or body is not None else "GET"
        request = urllib.request.Request(
            f"{self.sandbox}/__sandbox/{path}",
            method=method,
            data=json.dumps(body or {}).encode() if method == "POST" else None,
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.load(response)

    def upstream_calls(self) -> int:
        return self.sandbox_control("stats")["customer_calls"]

    def customer_calls(self, customer_id: int) -> int:
        """Return the upstream calls for one customer since the sandbox's last reset."""
        return self.sandbox_control(f"calls?customer_id={customer_id}")["customer_calls"]

    def set_fault(self, customer_id: int, fault: str) -> None:
        """Make the sandbox answer every call for this customer with `fault`."""
        self.sandbox_control("faults", {"customer_id": customer_id, "fault": fault})
