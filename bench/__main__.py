"""`python -m bench`: start the sandbox and the dashboard under gunicorn, drive load, report.

Everything runs on loopback with a temporary data directory, is bounded in requests and
time, and stops by itself. The last line printed is one JSON object of figures.
"""

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
        argv = [sys.executable, "-m", "bench.sandbox", "--port", str(self.sandbox_port)]
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
            keys = list(client.scan_iter(f"{self.prefix}:*"))
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

    def sandbox_control(self, path: str) -> dict:
        method = "POST" if path == "reset" else "GET"
        request = urllib.request.Request(
            f"{self.sandbox}/__sandbox/{path}",
            method=method,
            data=b"{}" if method == "POST" else None,
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.load(response)

    def upstream_calls(self) -> int:
        return self.sandbox_control("stats")["customer_calls"]


def page(base: str, cid: int) -> str:
    return f"{base}/customers/{cid}/?source=INSTORE"


def run(bench: Bench) -> dict:
    args = bench.args
    figures: dict = {}
    rows: list[tuple[str, str]] = []
    sandbox = bench.start_sandbox()
    bench.cookie = f"sessionid={bench.prepare()}"
    a, master_a = bench.start_dashboard(args.workers)
    # Instance B: a second dashboard sharing Redis; its copies go stale after 1 s, which
    # sets up the stale measurement without touching instance A's figures.
    b, master_b = bench.start_dashboard(1, CACHE_FRESH_SECONDS="1", CACHE_STALE_SECONDS="900")
    duration, conc = args.duration, args.concurrency

    # Warm up: imports, templates, connection pools, the org's client in every worker.
    bench.load([f"{a}/bench/hello", page(a, SEED)], conc, mode="duration", duration=1)

    hello = bench.load([f"{a}/bench/hello"], conc, mode="duration", duration=duration)
    figures["hello_rps"] = hello["rps"]
    rows.append(
        ("hello (plain Django view)", f"{hello['rps']} req/s, p50 {hello['p50_ms']:.1f} ms")
    )

    hit = bench.load([page(a, SEED)], conc, mode="duration", duration=duration)
    figures.update(
        hit_page_rps=hit["rps"],
        hit_page_p50_ms=round(hit["p50_ms"], 1),
        hit_page_p99_ms=round(hit["p99_ms"], 1),
        hit_page_ratio=round(hit["rps"] / hello["rps"], 3),
    )
    rows.append(
        (
            "cached customer page",
            f"{hit['rps']} req/s, p50 {hit['p50_ms']:.1f} ms, p99 {hit['p99_ms']:.1f} ms, "
            f"{hit['avg_bytes'] / 1024:.1f} KB, statuses {hit['statuses']}",
        )
    )

    tab_url = f"{a}/customers/{SEED}/tabs/cards/?source=INSTORE"
    probe = bench.load([tab_url], 1, mode="once", headers={"HX-Request": "true"})
    if probe["statuses"] != {"200": 1}:
        bench.notes.append(f"tab URL answered {probe['statuses']}: measured the page instead")
        tab_url = page(a, SEED)
    tab = bench.load(
        [tab_url], conc, mode="duration", duration=duration, headers={"HX-Request": "true"}
    )
    figures.update(hit_tab_rps=tab["rps"], hit_tab_ratio=round(tab["rps"] / hello["rps"], 3))
    rows.append(
        (
            "cached tab fragment (htmx)",
            f"{tab['rps']} req/s, p50 {tab['p50_ms']:.1f} ms, {tab['avg_bytes'] / 1024:.1f} KB",
        )
    )

    direct = [f"{bench.sandbox}/v2/customers/{c}?source=INSTORE" for c in customers(100_003_000, 8)]
    upstream = bench.load(direct, 1, mode="once", headers={"Authorization": DEMO_BASIC})
    figures["upstream_p50_ms"] = round(upstream["p50_ms"], 1)
    rows.append(("sandbox alone (direct call)", f"p50 {upstream['p50_ms']:.1f} ms"))

    cold = customers(100_000_100, 16)
    bench.sandbox_control("reset")
    miss = bench.load([page(a, c) for c in cold], 1, mode="once")
    calls_per_page = bench.upstream_calls() / len(cold)
    figures["miss_overhead_p50_ms"] = round(miss["p50_ms"] - args.latency_ms, 1)
    rows.append(
        (
            "cold page, one agent",
            f"p50 {miss['p50_ms']:.1f} ms ({calls_per_page:.1f} upstream calls a page, "
            f"{args.latency_ms} ms each, in parallel)",
        )
    )

    many = customers(100_001_000, 64 * args.miss_rounds)
    miss64 = bench.load([page(a, c) for c in many], 64, mode="once")
    figures["miss_rps_64"] = miss64["rps"]
    figures["miss_efficiency"] = round(miss64["rps"] / (64 / (args.latency_ms / 1000)), 3)
    rows.append(
        (
            "64 agents, distinct cold customers",
            f"{miss64['rps']} req/s, p50 {miss64['p50_ms']:.1f} ms, statuses {miss64['statuses']}",
        )
    )

    if bench.redis:
        for name, urls in (
            ("processes", [page(a, 100_002_000)] * 100),
            ("instances", [page(a, 100_002_100), page(b, 100_002_100)] * 50),
        ):
            bench.sandbox_control("reset")
            burst = bench.load(urls, 100, mode="once")
            per_part = bench.upstream_calls() / calls_per_page
            figures[f"coalesce_calls_{name}"] = round(per_part, 2)
            rows.append(
                (
                    f"100 requests, one cold customer, 2 {name}",
                    f"{per_part:.2f} upstream calls per part, statuses {burst['statuses']}",
                )
            )
    else:
        figures["coalesce_calls_processes"] = figures["coalesce_calls_instances"] = None

    bench.load([page(b, SEED + 0)], 1, mode="once")  # a copy on B, stale after 1 s
    time.sleep(1.5)
    sandbox.terminate()
    sandbox.wait(10)
    stale = bench.load([page(b, SEED)] * 100, 1, mode="once")
    figures["stale_p50_ms"] = round(stale["p50_ms"], 1)
    rows.append(
        ("stale copy, sandbox stopped", f"p50 {stale['p50_ms']:.1f} ms, {stale['statuses']}")
    )

    figures["rss_mb_per_worker"] = max(peak_rss_mb(master_a.pid), peak_rss_mb(master_b.pid))
    rows.append(("peak RSS of a worker", f"{figures['rss_mb_per_worker']} MB"))
    return {"figures": figures, "rows": rows}


def peak_rss_mb(master: int) -> float:
    """Return the largest peak resident memory (VmHWM) among a gunicorn master's workers."""
    peaks = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(master):
            peaks.append(int(fields["VmHWM"].split()[0]) / 1024)
    return round(max(peaks), 1) if peaks else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--latency-ms", type=int, default=200, help="sandbox's fixed latency")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=64, help="gunicorn threads a worker")
    parser.add_argument("--concurrency", type=int, default=16, help="agents for the hit runs")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of each hit run")
    parser.add_argument("--miss-rounds", type=int, default=4, help="cold pages per agent (x64)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args(argv)
    bench = Bench(args)
    bench.cookie = ""
    started = time.monotonic()
    try:
        result = run(bench)
    finally:
        bench.stop()
    print(f"Customer Lookup benchmark ({os.cpu_count()} CPUs, {time.monotonic() - started:.0f} s)")
    print(
        f"gunicorn gthread -w {args.workers} --threads {args.threads}; sandbox latency "
        f"{args.latency_ms} ms; {args.concurrency} agents for {args.duration:.0f} s a hit run"
    )
    width = max(len(name) for name, _ in result["rows"])
    for name, value in result["rows"]:
        print(f"  {name.ljust(width)}  {value}")
    for note in bench.notes:
        print(f"  note: {note}")
    print(json.dumps(result["figures"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
