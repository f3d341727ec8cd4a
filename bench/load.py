"""The load generator: run as its own process (`python -m bench.load < spec.json`).

It reads a JSON spec on stdin and prints one JSON object of results. Each thread keeps one
keep-alive connection per host. Modes: "duration" (every thread repeats the URLs until time
is up) and "once" (each URL is requested once; with "together" all threads start at once).
With "retries", an agent that gets an answer other than 200 asks the same URL again, up to
that many times, as a person presses Retry on an error page. With "mark", the results also
list every request as [url, status, whether its body holds the mark, attempt (1 first)].
The soak's options: "sessions" (lists of URLs; each agent walks one chosen at random, then
another, instead of the URLs in turn), "think_ms" (a random pause, 0 to twice this, between
an agent's requests), "timings" (every request as [status, ms, X-Request-ID, marked]) and
"failover" ({host:port: other host:port}: a request that gets no answer at all is sent once
to the other instance, as a load balancer does when an instance stops).
"""

from __future__ import annotations

import http.client
import json
import random
import sys
import threading
import time
from urllib.parse import urlsplit


def _percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class Worker:
    """One simulated agent: a connection per host, reused while the server keeps it open,
    and, as a browser does, the cookies the server sets (the CSRF cookie) sent back."""

    def __init__(self, headers: dict[str, str], cookie: str = "") -> None:
        self.headers = headers
        self.connections: dict[str, http.client.HTTPConnection] = {}
        self.cookies: dict[str, str] = {}
        self.request_id = ""
        for pair in cookie.split(";"):
            name, _, value = pair.strip().partition("=")
            if name:
                self.cookies[name] = value

    def _keep_cookies(self, response: http.client.HTTPResponse) -> None:
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value, _, attributes = rest.partition(";")
            if not value or "max-age=0" in attributes.lower().replace(" ", ""):
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value

    def get(self, url: str) -> tuple[int, bytes]:
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        for attempt in (1, 2):
            conn = self.connections.get(parts.netloc)
            if conn is None:
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
                self.connections[parts.netloc] = conn
            try:
                headers = dict(self.headers)
                if self.cookies:
                    headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
                conn.request("GET", target, headers=headers)
                response = conn.getresponse()
                body = response.read()
                self.request_id = response.getheader("X-Request-ID", "")
                self._keep_cookies(response)
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    del self.connections[parts.netloc]
                return response.status, body
            except (OSError, http.client.HTTPException):
                # The server closed an idle keep-alive connection: reconnect once.
                conn.close()
                self.connections.pop(parts.netloc, None)
                if attempt == 2:
                    return 0, b""
        return 0, b""


def run(spec: dict) -> dict:
    headers = dict(spec.get("headers", {}))
    concurrency = int(spec.get("concurrency", 1))
    urls: list[str] = list(spec["urls"])
    mode = spec.get("mode", "duration")
    duration = float(spec.get("duration", 5))
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    sizes: list[int] = []
    mark = spec["mark"].encode() if spec.get("mark") else None
    outcomes: list[tuple[str, int, bool, int]] = []
    retries = int(spec.get("retries", 0))
    sessions: list[list[str]] = spec.get("sessions") or []
    think = float(spec.get("think_ms", 0)) / 1000
    timings: list[list] | None = [] if spec.get("timings") else None
    failover: dict[str, str] = spec.get("failover") or {}
    failovers = [0]
    lock = threading.Lock()
    barrier = threading.Barrier(concurrency)
    queue = list(reversed(urls))

    def record(
        url: str, status: int, body: bytes, elapsed: float, attempt: int = 1, request_id: str = ""
    ) -> None:
        with lock:
            latencies.append(elapsed * 1000)
            statuses[str(status)] = statuses.get(str(status), 0) + 1
            sizes.append(len(body))
            if mark is not None and timings is None:
                outcomes.append((url, status, mark in body, attempt))
            if timings is not None:
                marked = mark is not None and mark in body
                timings.append([status, round(elapsed * 1000, 1), request_id, marked])

    def agent(index: int) -> None:
        worker = Worker(headers, spec.get("cookie", ""))
        barrier.wait()
        if mode == "duration" and sessions:
            rng = random.Random(index)
            stop = started + duration
            while time.monotonic() < stop:
                for url in rng.choice(sessions):
                    if time.monotonic() >= stop:
                        break
                    begin = time.monotonic()
                    status, body = worker.get(url)
                    netloc = urlsplit(url).netloc
                    if status == 0 and netloc in failover:
                        with lock:
                            failovers[0] += 1
                        url = url.replace(netloc, failover[netloc], 1)
                        status, body = worker.get(url)
                    record(url, status, body, time.monotonic() - begin, 1, worker.request_id)
                    time.sleep(rng.uniform(0, 2 * think))
            return
        if mode == "duration":
            stop = started + duration
            i = index
            while time.monotonic() < stop:
                begin = time.monotonic()
                url = urls[i % len(urls)]
                status, body = worker.get(url)
                record(url, status, body, time.monotonic() - begin)
                i += 1
            return
        while True:
            with lock:
                if not queue:
                    return
                url = queue.pop()
            for attempt in range(1, retries + 2):
                begin = time.monotonic()
                status, body = worker.get(url)
                record(url, status, body, time.monotonic() - begin, attempt)
                if status == 200:
                    break

    threads = [threading.Thread(target=agent, args=(i,)) for i in range(concurrency)]
    started = time.monotonic() + 0.05  # threads start together after the barrier
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    count = len(latencies)
    more = {"outcomes": outcomes} if mark is not None and timings is None else {}
    if timings is not None:
        more["timings"] = timings
    if failover:
        more["failovers"] = failovers[0]
    return {
        "count": count,
        "elapsed": round(elapsed, 3),
        "rps": round(count / elapsed, 1) if elapsed > 0 else None,
        "p50_ms": _percentile(latencies, 0.5),
        "p99_ms": _percentile(latencies, 0.99),
        "statuses": statuses,
        "avg_bytes": round(sum(sizes) / count) if count else 0,
        **more,
    }


def main() -> int:
    print(json.dumps(run(json.load(sys.stdin))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
