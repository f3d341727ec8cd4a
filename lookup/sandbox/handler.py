"""The HTTP request handler: Capillary endpoints, fault injection and the control API."""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import sys
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from . import faults, lookups
from .activity import activity_response, customer_of, panel_of
from .data import GENERATED_RANGE, SEED_IDS, SHAPES, today_utc
from .jsonout import dumps
from .params import ApiError, query_embeds
from .png import png_for
from .render import customer_response, timeless

if TYPE_CHECKING:
    from .server import SandboxServer

_CUSTOMER_PATH = re.compile(r"^/v2/customers/([^/]+)/?$")
_IMAGE_PATH = re.compile(r"^/__sandbox/images/([A-Za-z0-9_-]{1,64})\.png$")
_SANE_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")
_REASONS = {461: "Search Engine Busy", 521: "Multiple Actions Running"}
_TOKEN_PATH = "/v3/oauth/token/generate"
# Paths that _CUSTOMER_PATH would otherwise read as a customer ID.
_LOOKUP_PATHS = {
    "/v2/customers/lookup": "_lookup_id",
    "/v2/customers/lookup/customerDetails": "_lookup_details",
    "/v2/customers/search": "_search",
}


class SandboxHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that knows its sandbox."""

    daemon_threads = True
    request_queue_size = 128
    sandbox: SandboxServer


class SandboxHandler(BaseHTTPRequestHandler):
    """Serve one request against the sandbox."""

    protocol_version = "HTTP/1.1"
    # Some answers (stdlib errors, the trickle fault) go out in several writes; with Nagle
    # on, a keep-alive client would wait ~40 ms for a delayed ACK on each of them.
    disable_nagle_algorithm = True
    server_version = "CapillarySandbox/1.0"
    sys_version = ""
    server: SandboxHTTPServer
    request_id = ""
    # When the request line arrived (time.monotonic()); the latency floor counts from here.
    received_at = 0.0
    # Set by the Capillary endpoints: hold the answer until the configured latency has passed.
    latency_pending = False

    def version_string(self) -> str:
        return self.server_version

    def parse_request(self) -> bool:
        # Called as soon as the request line has been read: the request has arrived.
        self.received_at = time.monotonic()
        self.latency_pending = False
        return super().parse_request()

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.sandbox.config.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    # -- plumbing -------------------------------------------------------------------------------

    def _hold_for_latency(self) -> None:
        """Before the first byte of a Capillary answer, sleep out what is left of the latency."""
        if self.latency_pending:
            self.latency_pending = False
            self.server.sandbox.sleep_latency(self.received_at)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        self._hold_for_latency()
        self.send_response(status, _REASONS.get(status))
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Cap-Requestid", self.request_id)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.request_version == "HTTP/0.9" or self.command == "HEAD":
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            return
        # Headers and body in one write: one segment on the wire instead of two.
        self._headers_buffer.append(b"\r\n")
        self._headers_buffer.append(body)
        self.flush_headers()

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, dumps(payload), headers=headers)

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if not length or not length.strip().isdigit():
            return b""
        return self.rfile.read(int(length))

    def _base_url(self) -> str:
        host = self.headers.get("Host", "")
        return f"http://{host}" if _SANE_HOST.match(host) else self.server.sandbox.url

    def _dispatch(self, method: str) -> None:
        self.request_id = secrets.token_hex(16)
        try:
            body = self._read_body()
            parts = urlsplit(self.path)
            self._route(method, parts.path, parts.query, body)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True
        except Exception:  # a sandbox bug must not look like a hung upstream
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self._json(
                    500,
                    {
                        "errors": [
                            {"status": False, "code": 500, "message": "Sandbox internal error"}
                        ]
                    },
                )

    def _route(self, method: str, path: str, query: str, body: bytes) -> None:
        match = _CUSTOMER_PATH.match(path)
        lookup = _LOOKUP_PATHS.get(path.rstrip("/"))
        activity = panel_of(path) if method == "GET" else None
        if lookup is not None and method == "GET":
            getattr(self, lookup)(query)
        elif activity is not None:
            self._activity(*activity, query)
        elif match and method == "GET":
            self._customer(match.group(1), query)
        elif path == _TOKEN_PATH and method == "POST":
            self._token(body)
        elif path == "/healthz" and method == "GET":
            self._send(200, b"ok", "text/plain; charset=utf-8")
        elif path.startswith("/__sandbox/"):
            self._control(method, path, query, body)
        elif match or path in (_TOKEN_PATH, "/healthz"):
            self._json(
                405,
                {"errors": [{"status": False, "code": 405, "message": "Operation not supported"}]},
            )
        else:
            self._json(
                404, {"errors": [{"status": False, "code": 404, "message": "Resource not found"}]}
            )

    # -- Capillary endpoints ----------------------------------------------------------------------

    def _token(self, body: bytes) -> None:
        sandbox = self.server.sandbox
        sandbox.record_token_call()
        self.latency_pending = True
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            data = None
        if not isinstance(data, dict):
            error = {"status": False, "code": 400, "message": "Invalid request body"}
            self._json(400, {"data": None, "errors": [error]})
            return
        token = sandbox.issue_token(data.get("key"), data.get("secret"))
        if token is None:
            error = {"status": False, "code": 401, "message": "Failed to generate OAuth token"}
            self._json(401, {"data": None, "errors": [error]})
            return
        ttl = sandbox.config.token_ttl_seconds
        ttl_out = int(ttl) if float(ttl).is_integer() else ttl
        self._json(200, {"data": {"accessToken": token, "ttlSeconds": ttl_out}, "errors": None})

    def _customer(self, raw_id: str, query: str) -> None:
        sandbox = self.server.sandbox
        customer_id = int(raw_id) if raw_id.isascii() and raw_id.isdigit() else None
        sandbox.record_customer_call(
            raw_id if customer_id is None else customer_id,
            list(query_embeds(query)),
        )
        self.latency_pending = True
        if not sandbox.authorised(self.headers):
            self._answer(
                401,
                dumps({"errors": [{"status": False, "code": 401, "message": faults.AUTH_FAILED}]}),
            )
            return
        fault = sandbox.fault_for(customer_id)
        canned = faults.canned(fault, customer_id or 0) if fault else None
        if canned is not None:
            self._answer(canned.status, canned.body, canned.content_type, canned.headers)
            return
        if fault is None:
            self._answer(*self._plain_answer(raw_id, query))
            return
        status, payload = customer_response(raw_id, query, self._base_url())
        name = fault.name
        if name == "timeout":
            if sandbox.wait(float(fault.options.get("seconds", sandbox.config.timeout_seconds))):
                self.close_connection = True
                return
        elif name == "points_warning" and status == 200 and _asks_points(query):
            # Capillary answers the rest of the call and says the points could not be read.
            payload.pop("pointsSummary", None)
            payload["warnings"] = [*payload.get("warnings", []), faults.POINTS_WARNING]
        elif name == "malformed_json":
            text = dumps(payload).decode("utf-8")
            self._answer(200, text[: max(1, len(text) // 2)].encode("utf-8"))
            return
        elif name == "trickle":
            self._trickle(status, dumps(payload), float(fault.options.get("interval", 0.5)))
            return
        elif name == "cut_short":
            self._cut_short(status, dumps(payload))
            return
        self._answer(status, dumps(payload))

    def _lookup_id(self, query: str) -> None:
        """Answer `GET /v2/customers/lookup`: the customer ID, or the customer's fault."""
        sandbox = self.server.sandbox
        sandbox.record_customer_call("lookup", [])
        self.latency_pending = True
        if not self._authorised():
            return
        try:
            customer_id = lookups.resolve(query)
        except ApiError as error:
            self._answer(error.status, dumps(error.body()))
            return
        fault = sandbox.fault_for(customer_id)
        canned = faults.canned(fault, customer_id) if fault else None
        if canned is not None:
            self._answer(canned.status, canned.body, canned.content_type, canned.headers)
            return
        self._answer(200, dumps({"entity": customer_id, "warnings": []}))

    def _lookup_details(self, query: str) -> None:
        """Answer `GET /v2/customers/lookup/customerDetails` as the by-ID call for the customer."""
        try:
            customer_id = lookups.resolve(query)
        except ApiError as error:
            self.server.sandbox.record_customer_call("lookup", [])
            self.latency_pending = True
            if self._authorised():
                self._answer(error.status, dumps(error.body()))
            return
        self._customer(str(customer_id), lookups.split_query(query)[1])

    def _search(self, query: str) -> None:
        """Answer `GET /v2/customers/search?q=`."""
        self.server.sandbox.record_customer_call("search", [])
        self.latency_pending = True
        if not self._authorised():
            return
        try:
            self._answer(200, dumps(lookups.search(query)))
        except ApiError as error:
            self._answer(error.status, dumps(error.body()))

    def _authorised(self) -> bool:
        """Return True for an authorised request; else answer 401 and return False."""
        if self.server.sandbox.authorised(self.headers):
            return True
        body = {"errors": [{"status": False, "code": 401, "message": faults.AUTH_FAILED}]}
        self._answer(401, dumps(body))
        return False

    def _activity(self, panel: str, path_id: str, query: str) -> None:
        """Answer an activity GET; a fault set for the customer's endpoint answers instead."""
        sandbox = self.server.sandbox
        customer_id = customer_of(panel, path_id, query)
        sandbox.record_activity_call(panel, customer_id)
        self.latency_pending = True
        if not sandbox.authorised(self.headers):
            error = {"status": False, "code": 401, "message": faults.AUTH_FAILED}
            self._answer(401, dumps({"errors": [error]}))
            return
        status = sandbox.activity_fault(customer_id, panel)
        if status is not None:
            error = {"status": False, "code": status, "message": "Sandbox fault"}
            self._answer(status, dumps({"errors": [error]}))
            return
        status, payload = activity_response(panel, path_id, query, today_utc())
        self._answer(status, dumps(payload))

    def _plain_answer(self, raw_id: str, query: str) -> tuple[int, bytes]:
        """Return the fault-free (status, body), reusing the body of an identical request today."""
        sandbox = self.server.sandbox
        base_url, today = self._base_url(), today_utc()
        key = (raw_id, query, base_url, today)
        answer = sandbox.cached_answer(key)
        if answer is None:
            status, payload = customer_response(raw_id, query, base_url, today)
            answer = (status, dumps(payload))
            if timeless(query):  # image URLs carry the time of the request
                sandbox.keep_answer(key, answer)
        return answer

    def _answer(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.server.sandbox.record_status(status)
        self._send(status, body, content_type, headers)

    def _trickle(self, status: int, body: bytes, interval: float) -> None:
        """Send a valid body one byte per ``interval`` seconds, without Content-Length."""
        sandbox = self.server.sandbox
        sandbox.record_status(status)
        self.close_connection = True
        self._hold_for_latency()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Cap-Requestid", self.request_id)
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.flush()
        for index in range(len(body)):
            self.wfile.write(body[index : index + 1])
            if sandbox.wait(interval):
                return

    def _cut_short(self, status: int, body: bytes) -> None:
        """Declare the whole body in Content-Length, send half of it and close the connection."""
        self.server.sandbox.record_status(status)
        self.close_connection = True
        self._hold_for_latency()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Cap-Requestid", self.request_id)
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()

    # -- control API ----------------------------------------------------------------------------

    def _control(self, method: str, path: str, query: str, body: bytes) -> None:
        sandbox = self.server.sandbox
        image = _IMAGE_PATH.match(path)
        if image and method == "GET":
            self._send(
                200,
                png_for(image.group(1)),
                "image/png",
                {"Cache-Control": "private, max-age=3600"},
            )
        elif path == "/__sandbox/stats" and method == "GET":
            self._json(200, sandbox.stats())
        elif path == "/__sandbox/calls" and method == "GET":
            self._calls(query)
        elif path == "/__sandbox/reset" and method == "POST":
            sandbox.reset()
            self._json(200, {"ok": True})
        elif path == "/__sandbox/faults" and method == "GET":
            self._json(
                200,
                {
                    "runtime": sandbox.faults(),
                    "fixed": faults.FAULT_IDS,
                    "names": sorted(faults.FAULT_NAMES),
                },
            )
        elif path == "/__sandbox/faults" and method == "POST":
            self._set_fault(body)
        elif path == "/__sandbox/activity-faults" and method == "POST":
            data = self._control_body(body)
            try:
                status = data.get("status")
                sandbox.set_activity_fault(
                    int(data["customer_id"]),
                    str(data["panel"]),
                    None if status is None else int(status),
                )
            except (KeyError, TypeError, ValueError) as error:
                self._json(400, {"ok": False, "error": str(error)})
                return
            self._json(200, {"ok": True})
        elif path == "/__sandbox/latency" and method == "POST":
            data = self._control_body(body)
            try:
                sandbox.set_latency(float(data.get("fixed_ms", 0)), float(data.get("jitter_ms", 0)))
            except (TypeError, ValueError) as error:
                self._json(400, {"ok": False, "error": str(error)})
                return
            self._json(
                200, {"ok": True, "fixed_ms": sandbox.latency[0], "jitter_ms": sandbox.latency[1]}
            )
        elif path == "/__sandbox/shapes" and method == "GET":
            generated = [GENERATED_RANGE.start, GENERATED_RANGE.stop]
            self._json(
                200,
                {
                    "shapes": SHAPES,
                    "seed_ids": list(SEED_IDS),
                    "generated_range": generated,
                    "fault_ids": faults.FAULT_IDS,
                },
            )
        else:
            self._json(404, {"ok": False, "error": "unknown control endpoint"})

    def _calls(self, query: str) -> None:
        """Answer how many customer calls arrived, for ``?customer_id=`` or in total."""
        asked = parse_qs(query).get("customer_id", [""])[-1]
        calls = self.server.sandbox.customer_calls(asked or None)
        self._json(200, {"customer_id": asked or None, "customer_calls": calls})

    def _control_body(self, body: bytes) -> dict[str, Any]:
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def _set_fault(self, body: bytes) -> None:
        data = self._control_body(body)
        customer_id = data.pop("customer_id", None)
        fault = data.pop("fault", None)
        try:
            self.server.sandbox.set_fault(customer_id, fault, **data)
        except (TypeError, ValueError) as error:
            self._json(400, {"ok": False, "error": str(error)})
            return
        self._json(200, {"ok": True, "runtime": self.server.sandbox.faults()})


def _asks_points(query: str) -> bool:
    """Return whether the call asked for the points (embed=points or embed=mlp)."""
    return bool({"points", "mlp"} & {e.lower() for e in query_embeds(query)})
