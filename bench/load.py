"""The load generator: run as its own process (`python -m bench.load < spec.json`).

It reads a JSON spec on stdin and prints one JSON object of results. Each thread keeps one
keep-alive connection per host. Modes: "duration" (every thread repeats the URLs until time
is up) and "once" (each URL is requested once; with "together" all threads start at once).
"""

from __future__ import annotations

import http.client
import json
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

    def get(self, url: str) -> tuple[int, int]:
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
                self._keep_cookies(response)
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    del self.connections[parts.netloc]
                return response.status, len(body)
            except (OSError, http.client.HTTPException):
                # The server closed an idle keep-alive connection: reconnect once.
                conn.close()
                self.connections.pop(parts.netloc, None)
                if attempt == 2:
                    return 0, 0
        return 0, 0


def run(spec: dict) -> dict:
    headers = dict(spec.get("headers", {}))
    concurrency = int(spec.get("concurrency", 1))
    urls: list[str] = list(spec["urls"])
    mode = spec.get("mode", "duration")
    duration = float(spec.get("duration", 5))
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    sizes: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(concurrency)
    queue = list(reversed(urls))

    def record(status: int, size: int, elapsed: float) -> None:
        with lock:
            latencies.append(elapsed * 1000)
            statuses[str(status)] = statuses.get(str(status), 0) + 1
            sizes.append(size)

    def agent(index: int) -> None:
        worker = Worker(headers, spec.get("cookie", ""))
        barrier.wait()
        if mode == "duration":
            stop = started + duration
            i = index
            while time.monotonic() < stop:
                begin = time.monotonic()
                status, size = worker.get(urls[i % len(urls)])
                record(status, size, time.monotonic() - begin)
                i += 1
            return
        while True:
            with lock:
                if not queue:
                    return
                url = queue.pop()
            begin = time.monotonic()
            status, size = worker.get(url)
            record(status, size, time.monotonic() - begin)

    threads = [threading.Thread(target=agent, args=(i,)) for i in range(concurrency)]
    started = time.monotonic() + 0.05  # threads start together after the barrier
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    count = len(latencies)
    return {
        "count": count,
        "elapsed": round(elapsed, 3),
        "rps": round(count / elapsed, 1) if elapsed > 0 else None,
        "p50_ms": _percentile(latencies, 0.5),
        "p99_ms": _percentile(latencies, 0.99),
        "statuses": statuses,
        "avg_bytes": round(sum(sizes) / count) if count else 0,
    }


def main() -> int:
    print(json.dumps(run(json.load(sys.stdin))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
