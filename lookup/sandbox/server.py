"""The Capillary sandbox server: configuration, lifecycle, state and the command-line entry point."""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import random
import secrets
import signal
import threading
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from email.message import Message
from typing import Any

from .faults import FAULT_BY_ID, FAULT_NAMES, Fault
from .handler import SandboxHandler, SandboxHTTPServer

__all__ = ["SandboxConfig", "SandboxServer", "main"]

MAX_TOKENS = 100_000
MAX_EMBED_LOG = 100_000
MAX_BASIC_MEMO = 256  # Authorization header values whose verdict is remembered
MAX_ANSWER_BYTES = 16 * 1024 * 1024  # encoded customer answers kept for identical requests


@dataclass
class SandboxConfig:
    """How the sandbox listens, which credentials it accepts and how slow it is."""

    host: str = "127.0.0.1"
    port: int = 0
    latency_ms: float = 0
    jitter_ms: float = 0
    till_username: str = "demo.till"
    till_password: str = "demo-password"
    oauth_key: str = "demo-key"
    oauth_secret: str = "demo-secret"
    token_ttl_seconds: float = 300
    timeout_seconds: float = 30.0  # how long the "timeout" fault sleeps before answering
    verbose: bool = False


class SandboxServer:
    """A real HTTP server that answers like Capillary's customer and OAuth endpoints."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._serving = False
        self._port = 0
        self._tokens: dict[str, float] = {}
        # What OAuth token lifetimes are measured by; a test may swap in a clock it moves.
        self.token_clock: Callable[[], float] = time.monotonic
        self._faults: dict[int | None, Fault] = {}
        self._activity_faults: dict[tuple[int, str], int] = {}
        self.latency: tuple[float, float] = (
            float(self.config.latency_ms),
            float(self.config.jitter_ms),
        )
        self._password_md5 = hashlib.md5(self.config.till_password.encode("utf-8")).hexdigest()
        self._basic_verdicts: dict[str, bool] = {}
        self._answers: OrderedDict[Hashable, tuple[int, bytes]] = OrderedDict()
        self._answer_bytes = 0
        self._clear_stats()

    # -- lifecycle ------------------------------------------------------------------------------

    def bind(self) -> None:
        """Open the listening socket (idempotent); ``url`` is valid afterwards."""
        if self._httpd is None:
            httpd = SandboxHTTPServer((self.config.host, self.config.port), SandboxHandler)
            httpd.sandbox = self
            self._httpd = httpd
            self._port = int(httpd.server_address[1])

    @property
    def port(self) -> int:
        """Return the bound port (binding first if needed)."""
        if not self._port:
            self.bind()
        return self._port

    @property
    def url(self) -> str:
        """Return the base URL, e.g. ``http://127.0.0.1:8001``."""
        host = self.config.host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def start(self) -> SandboxServer:
        """Serve in a daemon thread and return immediately."""
        self.bind()
        if self._thread is None:
            self._serving = True
            self._thread = threading.Thread(
                target=self.serve_forever, name="capillary-sandbox", daemon=True
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until ``stop`` (or Ctrl-C in the main thread)."""
        self.bind()
        assert self._httpd is not None
        self._serving = True
        self._httpd.serve_forever(poll_interval=0.1)

    def stop(self) -> None:
        """Stop serving, wake sleeping fault handlers and close the socket."""
        self._stopping.set()
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            if self._serving:
                httpd.shutdown()
            httpd.server_close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; return True if the server is stopping."""
        return self._stopping.wait(max(0.0, seconds))

    # -- behaviour switches -----------------------------------------------------------------------

    def set_latency(self, fixed_ms: float, jitter_ms: float = 0) -> None:
        """Make every /v2 and /v3 call answer ``fixed_ms + uniform(0, jitter_ms)`` after it arrived.

        The latency is a response time floor measured from the request's arrival, not a sleep
        added to the sandbox's own work: see ``sleep_latency``.
        """
        fixed, jitter = float(fixed_ms), float(jitter_ms)
        if fixed < 0 or jitter < 0:
            raise ValueError("latency must not be negative")
        self.latency = (fixed, jitter)

    def sleep_latency(self, started: float | None = None) -> None:
        """Sleep out what remains of the configured latency, a response time floor.

        The floor (``fixed + uniform(0, jitter)`` ms) is measured from the request's arrival,
        ``started`` (a ``time.monotonic()`` reading), like a real upstream with that latency:
        the handler does its work first and then sleeps only what is left of the floor, or
        nothing if the work took longer. Without ``started`` the whole floor is slept. Returns
        early when the server is stopping.
        """
        fixed, jitter = self.latency
        delay = fixed + (random.uniform(0, jitter) if jitter else 0.0)
        if delay <= 0:
            return
        remaining = delay / 1000
        if started is not None:
            remaining += started - time.monotonic()
        if remaining > 0:
            self.wait(remaining)

    def set_fault(self, customer_id: int | str | None, fault: str | None, **options: Any) -> None:
        """Make ``customer_id`` (None: every customer) fail with ``fault``; None/"none" clears it.

        The ``share`` option (0 to 1) makes only that fraction of calls, at random, fail.
        """
        key = None if customer_id is None else int(customer_id)
        if "share" in options and not 0 <= float(options["share"]) <= 1:
            raise ValueError("share must be between 0 and 1")
        with self._lock:
            if fault is None or fault == "none":
                self._faults.pop(key, None)
                return
            if fault not in FAULT_NAMES:
                raise ValueError(
                    f"unknown fault {fault!r}; known: {', '.join(sorted(FAULT_NAMES))}"
                )
            self._faults[key] = Fault(fault, dict(options))

    def faults(self) -> dict[str, dict[str, Any]]:
        """Return the runtime faults keyed by customer id ("*" for every customer)."""
        with self._lock:
            return {
                "*" if k is None else str(k): {"fault": f.name, **f.options}
                for k, f in self._faults.items()
            }

    def fault_for(self, customer_id: int | None) -> Fault | None:
        """Return the fault for a request: per-customer, then global runtime, then fixed fault ID."""
        with self._lock:
            fault = self._faults.get(customer_id) if customer_id is not None else None
            fault = fault or self._faults.get(None)
        if fault is not None and random.random() >= float(fault.options.get("share", 1)):
            fault = None
        if fault is None and customer_id in FAULT_BY_ID:
            fault = Fault(FAULT_BY_ID[customer_id])
        return fault

    # -- auth -------------------------------------------------------------------------------------

    def issue_token(self, key: object, secret: object) -> str | None:
        """Return a new OAuth token for the right key and secret, else None."""
        if not (isinstance(key, str) and isinstance(secret, str)):
            return None
        if not (
            hmac.compare_digest(key, self.config.oauth_key)
            and hmac.compare_digest(secret, self.config.oauth_secret)
        ):
            return None
        token = secrets.token_urlsafe(32)
        now = self.token_clock()
        with self._lock:
            if len(self._tokens) >= MAX_TOKENS:
                self._tokens = {t: exp for t, exp in self._tokens.items() if exp > now}
                while len(self._tokens) >= MAX_TOKENS:
                    self._tokens.pop(next(iter(self._tokens)))
            self._tokens[token] = now + float(self.config.token_ttl_seconds)
        return token

    def authorised(self, headers: Message) -> bool:
        """Return True if the request has a valid OAuth token or Basic till credentials."""
        token = (headers.get("X-CAP-API-OAUTH-TOKEN") or "").strip()
        if token:
            with self._lock:
                expiry = self._tokens.get(token)
            if expiry is not None and expiry > self.token_clock():
                return True
        auth = headers.get("Authorization") or ""
        verdict = self._basic_verdicts.get(auth)
        if verdict is None:
            verdict = self._basic_ok(auth.strip())
            if len(self._basic_verdicts) >= MAX_BASIC_MEMO:
                self._basic_verdicts.clear()  # a flood of made-up headers: start over
            self._basic_verdicts[auth] = verdict
        return verdict

    def _basic_ok(self, auth: str) -> bool:
        """Return True if ``auth`` is ``Basic base64(till_username:md5(till_password))``."""
        if auth[:6].lower() != "basic ":
            return False
        try:
            decoded = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8")
        except ValueError:
            return False
        username, _, digest = decoded.partition(":")
        return hmac.compare_digest(username, self.config.till_username) and hmac.compare_digest(
            digest.lower(), self._password_md5
        )

    # -- answers ----------------------------------------------------------------------------------

    def cached_answer(self, key: Hashable) -> tuple[int, bytes] | None:
        """Return the (status, body) kept under ``key`` by ``keep_answer``, or None."""
        with self._lock:
            answer = self._answers.get(key)
            if answer is not None:
                self._answers.move_to_end(key)
            return answer

    def keep_answer(self, key: Hashable, answer: tuple[int, bytes]) -> None:
        """Keep an encoded answer for identical requests (least recently used go first)."""
        size = len(answer[1])
        if size > MAX_ANSWER_BYTES // 16:
            return
        with self._lock:
            old = self._answers.pop(key, None)
            if old is not None:
                self._answer_bytes -= len(old[1])
            self._answers[key] = answer
            self._answer_bytes += size
            while self._answer_bytes > MAX_ANSWER_BYTES:
                _, (_, dropped) = self._answers.popitem(last=False)
                self._answer_bytes -= len(dropped)

    # -- stats ------------------------------------------------------------------------------------

    def _clear_stats(self) -> None:
        self._customer_calls = 0
        self._token_calls = 0
        self._by_customer: Counter[int | str] = Counter()
        self._by_status: Counter[int] = Counter()
        self._embeds: deque[list[str]] = deque(maxlen=MAX_EMBED_LOG)
        self._by_panel: Counter[tuple[str, int | None]] = Counter()

    def record_customer_call(self, customer_id: int | str, embeds: list[str]) -> None:
        """Count one customer call and the embed set it asked for."""
        with self._lock:
            self._customer_calls += 1
            self._by_customer[_customer_key(customer_id)] += 1
            self._embeds.append(embeds)

    def customer_calls(self, customer_id: int | str | None = None) -> int:
        """Return how many customer calls arrived for ``customer_id`` (None: for every customer)."""
        with self._lock:
            if customer_id is None:
                return self._customer_calls
            return self._by_customer[_customer_key(customer_id)]

    def record_activity_call(self, panel: str, customer_id: int | None) -> None:
        """Count one activity call (transactions, bill, coupons, ledger, goodwill)."""
        with self._lock:
            self._by_panel[(panel, customer_id)] += 1

    def activity_calls(self, panel: str, customer_id: int | None = None) -> int:
        """Return how many calls of one activity endpoint arrived (for a customer, or all)."""
        with self._lock:
            if customer_id is None:
                return sum(n for (name, _id), n in self._by_panel.items() if name == panel)
            return self._by_panel[(panel, customer_id)]

    def set_activity_fault(self, customer_id: int, panel: str, status: int | None) -> None:
        """Make one activity endpoint of one customer answer `status` (None: answer again)."""
        with self._lock:
            if status is None:
                self._activity_faults.pop((int(customer_id), panel), None)
            else:
                self._activity_faults[(int(customer_id), panel)] = int(status)

    def activity_fault(self, customer_id: int | None, panel: str) -> int | None:
        with self._lock:
            return self._activity_faults.get((customer_id, panel)) if customer_id else None

    def record_token_call(self) -> None:
        """Count one token call."""
        with self._lock:
            self._token_calls += 1

    def record_status(self, status: int) -> None:
        """Count the HTTP status of a customer answer."""
        with self._lock:
            self._by_status[status] += 1

    def stats(self) -> dict[str, Any]:
        """Return a snapshot of the call counters."""
        with self._lock:
            return {
                "customer_calls": self._customer_calls,
                "token_calls": self._token_calls,
                "by_customer": dict(self._by_customer),
                "by_status": dict(self._by_status),
                "embeds": [list(e) for e in self._embeds],
            }

    def reset(self) -> None:
        """Clear the counters, the runtime faults and the kept answers (latency and tokens stay)."""
        with self._lock:
            self._clear_stats()
            self._faults.clear()
            self._activity_faults.clear()
            self._answers.clear()
            self._answer_bytes = 0


def _customer_key(customer_id: int | str) -> int | str:
    """Return the key calls are counted under: the number for a numeric ID, else the text."""
    if isinstance(customer_id, str) and customer_id.isascii() and customer_id.isdigit():
        return int(customer_id)
    return customer_id


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the sandbox's options (shared by `python -m lookup.sandbox` and `manage.py sandbox`)."""
    defaults = SandboxConfig()
    parser.add_argument("--host", default=defaults.host)
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="latency of /v2 and /v3 calls, ms: a response time floor measured from the "
        "request's arrival (the sandbox's own work counts towards it)",
    )
    parser.add_argument(
        "--jitter-ms",
        type=float,
        default=0.0,
        help="random extra latency, uniform between 0 and this, ms (added to the floor)",
    )
    parser.add_argument("--till-username", default=defaults.till_username)
    parser.add_argument("--till-password", default=defaults.till_password)
    parser.add_argument("--oauth-key", default=defaults.oauth_key)
    parser.add_argument("--oauth-secret", default=defaults.oauth_secret)
    parser.add_argument(
        "--token-ttl",
        type=float,
        default=defaults.token_ttl_seconds,
        help="token lifetime, seconds",
    )
    parser.add_argument(
        "--timeout-seconds",
        type=float,
        default=defaults.timeout_seconds,
        help="sleep of the timeout fault",
    )


def config_from(options: dict, *, verbose: bool = False) -> SandboxConfig:
    """Return the configuration named by parsed options (as add_arguments defines them)."""
    return SandboxConfig(
        host=options["host"],
        port=options["port"],
        latency_ms=options["latency_ms"],
        jitter_ms=options["jitter_ms"],
        till_username=options["till_username"],
        till_password=options["till_password"],
        oauth_key=options["oauth_key"],
        oauth_secret=options["oauth_secret"],
        token_ttl_seconds=options["token_ttl"],
        timeout_seconds=options["timeout_seconds"],
        verbose=verbose,
    )


def serve(config: SandboxConfig) -> None:
    """Run the sandbox in the foreground until Ctrl-C or SIGTERM."""
    server = SandboxServer(config)
    server.bind()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)  # stop as cleanly as on Ctrl-C
    print(f"Sandbox listening on {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("Sandbox stopped.", flush=True)
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    """Run the sandbox in the foreground until Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="python -m lookup.sandbox", description="Capillary API sandbox."
    )
    add_arguments(parser)
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    serve(config_from(vars(args), verbose=args.verbose))
    return 0
