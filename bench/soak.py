"""`python -m bench.soak`: two `make serve` instances under hundreds of agents while Capillary fails.

For a bounded time the sandbox injects faults (5% errors throughout, latency spikes, a
30 s outage, a burst of 429s, one customer that always fails) while the bench's load
runner plays agents on both instances; instance A is restarted midway (SIGTERM, then
`scripts/serve.sh` again). It prints a table and, last, one JSON line of figures.
"""

from __future__ import annotations

import argparse
import json
import random
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

from bench import soak_report as report
from bench.servers import ROOT, Bench, customers, free_port, wait_for

ALWAYS_FAILING = 900000500  # the sandbox answers it 500, every time
STALE_MARK = "showing data from"
TABS = ("profile", "identifiers", "loyalty", "cards", "upgrade", "groups")


def sessions_for(bases: list[str], pool: list[int], count: int, seed: int = 7) -> list[list[str]]:
    """Return agents' sessions: a customer (a few popular ones often), its tabs, a refresh."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        base = rng.choice(bases)
        cid = (
            ALWAYS_FAILING if rng.random() < 0.01 else pool[int(rng.paretovariate(1.2)) % len(pool)]
        )
        page = f"{base}/customers/{cid}/?source=INSTORE"
        steps = [f"{base}/?customer_id={cid}&source=INSTORE", page]
        for tab in rng.sample(TABS, rng.randint(1, 3)):
            steps.append(f"{base}/customers/{cid}/tabs/{tab}/?source=INSTORE")
        if rng.random() < 0.1:
            steps.append(page + "&refresh=1")
        if rng.random() < 0.3:
            steps.append(page)  # back to the customer: a repeat lookup
        out.append(steps)
    return out


class Soak:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        args.threads = args.gunicorn_threads  # what Bench reads
        self.bench = Bench(args)
        if not self.bench.redis:
            raise SystemExit(f"soak: Redis at {args.redis_url} does not answer")
        self.events: list[tuple[float, str]] = []
        self.database = self._database()
        from cryptography.fernet import Fernet

        self.env = {
            **self.bench.env,
            "LOOKUP_ENV": "production",
            "SECRET_KEY": uuid.uuid4().hex * 2,
            "LOOKUP_FERNET_KEYS": Fernet.generate_key().decode(),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "WEB_CONCURRENCY": str(args.workers),
            "GUNICORN_THREADS": str(args.gunicorn_threads),
            "METRICS_TOKEN": "soak",
            "CAPILLARY_CALLS_PER_MINUTE": str(args.quota),
            "LOG_LEVEL": "ERROR",
        }
        self.env.pop("LOOKUP_BENCH", None)
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        if self.database:
            self.env["DATABASE_URL"] = self.database
        self.bench.env = self.env
        self.instances: dict[str, dict] = {}

    def _database(self) -> str:
        """Create a database on PostgreSQL when it answers; "" means SQLite in the data dir."""
        try:
            import psycopg

            with psycopg.connect(self.args.postgres, autocommit=True, connect_timeout=3) as conn:
                self.db_name = f"soak_{uuid.uuid4().hex[:10]}"
                conn.execute(f'CREATE DATABASE "{self.db_name}"')
        except Exception as error:  # noqa: BLE001 - SQLite then, said in the notes
            self.bench.notes.append(f"PostgreSQL unreachable ({error}): SQLite")
            return ""
        parts = urllib.parse.urlsplit(self.args.postgres)
        return parts._replace(path=f"/{self.db_name}").geturl()

    def log(self, what: str) -> None:
        self.events.append((time.monotonic() - self.started, what))

    # -- instances ------------------------------------------------------------------------------

    def start(self, name: str, port: int | None = None) -> None:
        port = port or free_port()
        env = {
            **self.env,
            "PORT": str(port),
            "STATIC_ROOT": str(self.bench.tmp / f"static-{name}"),
        }
        proc = self.bench.spawn(["bash", "scripts/serve.sh"], env)
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/readyz", 60)
        self.instances[name] = {"base": base, "proc": proc, "port": port}

    def restart(self, name: str) -> None:
        instance = self.instances[name]
        self.log(f"SIGTERM to instance {name}")
        self.quota_before_restart = self.refusals(instance["base"])
        instance["proc"].send_signal(signal.SIGTERM)
        instance["proc"].wait(60)
        self.start(name, instance["port"])
        self.log(f"instance {name} ready again")

    def refusals(self, base: str) -> float:
        request = urllib.request.Request(
            base + "/metrics", headers={"Authorization": "Bearer soak"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
        found = re.search(r'^lookup_refusals_total\{kind="quota"\} ([0-9.e+]+)$', text, re.M)
        return float(found.group(1)) if found else 0.0

    def memory(self) -> dict[int, int]:
        out = {}
        for instance in self.instances.values():
            for pid in report.workers_of(instance["proc"].pid):
                kb = report.rss_kb(pid)
                if kb:
                    out[pid] = kb
        return out

    # -- faults ---------------------------------------------------------------------------------

    def fault(self, fault: str | None, **options) -> None:
        self.bench.sandbox_control(
            "faults", {"customer_id": None, "fault": fault or "none", **options}
        )

    def background_errors(self) -> None:
        self.fault("http_500", share=0.05)

    def latency(self, fixed: float, jitter: float) -> None:
        self.bench.sandbox_control("latency", {"fixed_ms": fixed, "jitter_ms": jitter})

    def script(self, duration: float) -> list[tuple[float, str, callable]]:
        """Return the faults and the restart, at fractions of the run."""
        base, jitter = self.args.latency_ms, self.args.jitter_ms
        outage = min(30.0, duration * 0.25)
        return [
            (0.15, "latency spike: 2 s for 10 s", lambda: self.latency(2000, 500)),
            (0.15 + 10 / duration, "latency back", lambda: self.latency(base, jitter)),
            (0.30, f"outage: every call 503 for {outage:.0f} s", lambda: self.fault("http_503")),
            (0.30 + outage / duration, "outage over", self.background_errors),
            (0.60, "restart instance A", None),
            (0.75, "429 burst for 5 s", lambda: self.fault("rate_limited", retry_after=5)),
            (0.75 + 5 / duration, "429 burst over", self.background_errors),
            (0.85, "latency spike: 1.5 s for 8 s", lambda: self.latency(1500, 500)),
            (0.85 + 8 / duration, "latency back", lambda: self.latency(base, jitter)),
        ]

    # -- the run --------------------------------------------------------------------------------

    def run(self) -> dict:
        args = self.args
        duration = args.minutes * 60
        self.bench.start_sandbox()
        self.latency(args.latency_ms, args.jitter_ms)
        self.bench.prepare()  # migrates, makes the org and the bench user
        self.start("a")
        self.start("b")
        cookie = self.sign_in(self.instances["a"]["base"])
        pool = customers(100000000, 400)
        bases = [self.instances["a"]["base"], self.instances["b"]["base"]]
        spec = {
            "urls": bases,
            "sessions": sessions_for(bases, pool, 4000),
            "concurrency": args.agents,
            "duration": duration,
            "think_ms": args.think_ms,
            "cookie": cookie,
            "mark": STALE_MARK,
            "timings": True,
            "failover": {
                urllib.parse.urlsplit(bases[0]).netloc: urllib.parse.urlsplit(bases[1]).netloc,
                urllib.parse.urlsplit(bases[1]).netloc: urllib.parse.urlsplit(bases[0]).netloc,
            },
        }
        self.bench.sandbox_control("reset")  # sign-in and readiness made no calls, but be sure
        self.background_errors()
        self.started = time.monotonic()
        load = subprocess.Popen(
            [sys.executable, "-m", "bench.load"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        reader = threading.Thread(
            target=lambda: setattr(self, "out", load.communicate(json.dumps(spec))[0])
        )
        reader.start()
        # Every worker's memory is first taken after the same warm-up, a minute of serving
        # (a fifth of a shorter run). By then its threads hold their connections, it has
        # paged in its libraries, compiled the common pages' templates and filled its memos
        # of parsed and masked answers; half a minute in, it was still doing so.
        warm = min(60.0, duration * 0.2)
        memory_start: dict[int, int] = {}
        self.quota_before_restart = 0.0

        def take_start(what: str) -> None:
            for pid, kb in self.memory().items():
                memory_start.setdefault(pid, kb)
            self.log(f"warm-up over: memory of {what} taken")

        def warm_up() -> None:  # beside the faults, which keep their times
            time.sleep(warm)
            take_start(f"{len(self.memory())} workers")

        def restart_a() -> None:
            self.restart("a")
            time.sleep(warm)
            take_start("A's new workers")

        beside = [threading.Thread(target=warm_up)]
        beside[0].start()
        for fraction, what, action in self.script(duration):
            wait = self.started + fraction * duration - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self.log(what)
            if action is None:  # the restart runs beside the faults, as it would
                beside.append(threading.Thread(target=restart_a))
                beside[-1].start()
            else:
                action()
        for thread in beside:
            thread.join()
        reader.join()
        memory_end = self.memory()
        result = json.loads(self.out)
        upstream = self.bench.upstream_calls()
        quota = self.quota_before_restart + sum(self.refusals(b) for b in bases)
        measured = report.figures(result, self.audit(), upstream, quota, memory_start, memory_end)
        return {"minutes": self.args.minutes, "agents": self.args.agents, **measured}

    def sign_in(self, base: str) -> str:
        """Sign the bench user in through the form; return the session cookie."""
        import http.cookiejar

        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        # Production cookies are Secure: read them from the headers instead of the jar.
        with opener.open(base + "/login/", timeout=10) as response:
            page = response.read().decode()
            csrf = re.search(r"csrftoken=([^;]+)", response.headers.get("Set-Cookie", "")).group(1)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode(
            {"username": "bench", "password": "bench-pass-2026", "csrfmiddlewaretoken": token}
        ).encode()
        request = urllib.request.Request(base + "/login/", data=form)
        request.add_header("Cookie", f"csrftoken={csrf}")

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        try:
            urllib.request.build_opener(NoRedirect).open(request, timeout=10)
        except urllib.error.HTTPError as answer:
            cookies = answer.headers.get_all("Set-Cookie") or []
        session = next(c for c in cookies if c.startswith("sessionid="))
        return session.split(";")[0]

    def audit(self) -> dict[str, bool | None]:
        """Return each lookup's cache_hit by request ID, read from the audit trail."""
        sql = "SELECT request_id, cache_hit FROM lookup_auditrecord WHERE action = 'lookup'"
        if self.database:
            import psycopg

            with psycopg.connect(self.database) as conn:
                rows = conn.execute(sql).fetchall()
        else:
            import sqlite3

            with sqlite3.connect(self.bench.tmp / "db.sqlite3") as conn:
                rows = conn.execute(sql).fetchall()
        return dict(rows)

    def stop(self) -> None:
        self.bench.stop()
        if self.database:
            import psycopg

            with psycopg.connect(self.args.postgres, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=5.0, help="how long the load runs")
    parser.add_argument("--agents", type=int, default=300, help="simulated agents")
    parser.add_argument("--think-ms", type=float, default=3000, help="an agent's mean pause")
    parser.add_argument("--latency-ms", type=int, default=150, help="sandbox's latency floor")
    parser.add_argument("--jitter-ms", type=int, default=100, help="sandbox's random extra")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per instance")
    parser.add_argument("--gunicorn-threads", type=int, default=16, help="threads per worker")
    parser.add_argument("--quota", type=int, default=300, help="the org's calls a minute")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args(argv)
    soak = Soak(args)
    started = time.monotonic()
    try:
        figures = soak.run()
    finally:
        soak.stop()
    header = (
        f"two instances, gunicorn gthread -w {args.workers} --threads {args.gunicorn_threads}; "
        f"{args.agents} agents, think {args.think_ms:.0f} ms; sandbox {args.latency_ms}+"
        f"{args.jitter_ms} ms, 5% errors; quota {args.quota}/min; "
        f"{'PostgreSQL' if soak.database else 'SQLite'} and Redis"
    )
    report.show(figures, header, time.monotonic() - started, soak.events, soak.bench.notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
