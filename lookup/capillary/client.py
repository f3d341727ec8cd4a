"""HTTP client for the Capillary customer API; no Django, one method per endpoint."""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import os
import time
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import IncompleteRead, ProtocolError, ReadTimeoutError

from lookup.capillary.activity import ActivityQuery
from lookup.capillary.auth import Auth
from lookup.capillary.errors import (
    AuthenticationFailed,
    CapillaryError,
    InvalidResponse,
    UpstreamTimeout,
    UpstreamUnavailable,
    error_for,
)
from lookup.capillary.lookup import SEARCH_MAX_LIMIT, IdentifierQuery, SearchPage
from lookup.capillary.query import CustomerQuery
from lookup.capillary.records import ApiWarning, Customer

TOKEN_PATH = "/v3/oauth/token/generate"
LOOKUP_PATH = "/v2/customers/lookup"
LOOKUP_DETAILS_PATH = "/v2/customers/lookup/customerDetails"
SEARCH_PATH = "/v2/customers/search"
MAX_BODY_BYTES = 8 * 1024 * 1024
# Customer answers nest about eight levels; anything far deeper is not one, and the raw tab's
# indented JSON would hit Python's recursion limit on it.
MAX_JSON_DEPTH = 64
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class JsonResult:
    """An answer of a GET endpoint: its decoded body and where it came from."""

    raw: dict[str, Any]
    raw_text: str
    request_id: str | None
    path: str
    params: list[tuple[str, str]]
    status: int
    elapsed_ms: float


@dataclass(frozen=True)
class CustomerResult(JsonResult):
    """A customer's answer plus what the UI needs to show where it came from.

    `customer`, the typed records, is parsed from `raw` when first asked for: a caller
    that only keeps or cuts up the answer never pays for it.
    """

    @cached_property
    def customer(self) -> Customer:
        return Customer.from_raw(self.raw)

    @property
    def warnings(self) -> list[ApiWarning]:
        return list(self.customer.warnings)


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: requests.structures.CaseInsensitiveDict[str]
    text: str
    body: Any  # decoded JSON, or None when the body is not JSON
    request_id: str | None
    elapsed_ms: float


def _settle_environment(session: requests.Session, base_url: str) -> None:
    """Read the proxy and CA settings from the environment once, not on every call.

    With `trust_env` requests walks the whole process environment twice per request
    (proxies, no_proxy) and looks for a .netrc file: a quarter of a call's CPU. Every
    Capillary call goes to the same host, so the answer is the same each time; the
    credentials are always ours (a .netrc entry must not replace them).
    """
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.trust_env = False


class CapillaryClient:
    """Talk to one Capillary cluster with one organisation's credentials."""

    def __init__(
        self,
        base_url: str,
        auth: Auth,
        *,
        connect_timeout: float = 3.05,
        read_timeout: float = 10.0,
        deadline: float = 15.0,
        session: requests.Session | None = None,
        user_agent: str = "customer-lookup/0.1",
        logger: logging.Logger | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        parts = urlsplit(base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("base_url must be an http(s) URL with a host")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("base_url must not carry a query, fragment or credentials")
        self.base_url = base_url.strip().rstrip("/")
        self.auth = auth
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.deadline = deadline
        self.user_agent = user_agent
        self.max_body_bytes = max_body_bytes
        self.logger = logger or logging.getLogger("lookup.capillary")
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=64, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            _settle_environment(session, self.base_url)
        self.session = session

    def __repr__(self) -> str:
        return f"CapillaryClient({self.base_url!r})"

    def close(self) -> None:
        """Close pooled connections."""
        self.session.close()

    def get_customer(self, query: CustomerQuery) -> CustomerResult:
        """Return one customer (GET /v2/customers/{id}) or raise a CapillaryError."""
        extra = {"customer_id": query.customer_id}
        return self._timed(query.path, self._get_record, query.path, query.params(), extra)

    def lookup_customer(self, identifier: IdentifierQuery, shape: CustomerQuery) -> CustomerResult:
        """Return the customer an identifier names, in one call
        (GET /v2/customers/lookup/customerDetails).

        `shape` gives the embeds and flags to ask for, as for the by-ID call; its customer
        ID, source and account ID are not sent (the identifier's are).
        """
        params = identifier.params() + [
            (name, value) for name, value in shape.params() if name not in ("source", "accountId")
        ]
        return self._timed(LOOKUP_DETAILS_PATH, self._get_record, LOOKUP_DETAILS_PATH, params, {})

    def lookup_customer_id(self, identifier: IdentifierQuery) -> int:
        """Return the ID of the customer an identifier names (GET /v2/customers/lookup)."""
        answer = self._timed(LOOKUP_PATH, self._get, LOOKUP_PATH, identifier.params(), {})
        entity = answer.body.get("entity") if isinstance(answer.body, dict) else None
        if not _looks_like_id(entity):
            raise InvalidResponse(
                reason="wrong_shape",
                detail="expected an object with the customer ID in `entity`",
                request_id=answer.request_id,
                upstream_status=answer.status,
                path=LOOKUP_PATH,
            )
        return int(entity)

    def search_customers(self, text: str, *, limit: int = 10, offset: int = 0) -> SearchPage:
        """Return customers whose name or identifier starts with `text` (GET /v2/customers/search)."""
        if not 1 <= limit <= SEARCH_MAX_LIMIT or offset < 0:
            raise ValueError("limit must be 1 to 100 and offset not negative")
        params = [("q", text), ("limit", str(limit)), ("offset", str(offset))]
        answer = self._timed(SEARCH_PATH, self._get, SEARCH_PATH, params, {})
        if not isinstance(answer.body, dict) or not isinstance(answer.body.get("data"), list):
            raise InvalidResponse(
                reason="wrong_shape",
                detail="expected an object with a `data` list",
                request_id=answer.request_id,
                upstream_status=answer.status,
                path=SEARCH_PATH,
            )
        return SearchPage.from_raw(answer.body)

    def _timed(self, path: str, method: Any, *args: Any) -> Any:
        """Run one call under the client's deadline; stamp its errors with path and time."""
        started = time.monotonic()
        try:
            return method(*args, started + self.deadline)
        except CapillaryError as exc:
            _stamp(exc, path, started)
            raise

    def _get(
        self,
        path: str,
        params: list[tuple[str, str]],
        extra: dict[str, Any],
        deadline_at: float,
        empty_codes: frozenset[int] = frozenset(),
    ) -> _Answer:
        """GET once (renewing a revoked OAuth token once); raise the error the answer means.

        An error whose code is in `empty_codes` ("no entries") is an empty answer, not a failure.
        """
        sent = self.auth.headers(self, deadline_at)
        answer = self._send("GET", path, params, sent, None, deadline_at, extra)
        if answer.status == 401 and self.auth.invalidate(sent):
            # An OAuth token can be revoked or expire early: renew it once and retry.
            sent = self.auth.headers(self, deadline_at)
            answer = self._send("GET", path, params, sent, None, deadline_at, extra)
        error = error_for(
            answer.status,
            answer.body,
            text=answer.text,
            headers=answer.headers,
            request_id=answer.request_id,
        )
        if error is not None and getattr(error, "code", None) not in empty_codes:
            raise error
        return answer

    def get_activity(self, query: ActivityQuery) -> JsonResult:
        """Return one activity answer (transactions, a bill, coupons, ledger, goodwill) or raise."""
        started = time.monotonic()
        try:
            answer = self._get(
                query.path,
                query.params(),
                {"customer_id": query.customer_id},
                started + self.deadline,
                query.empty_codes,
            )
            if not isinstance(answer.body, dict):
                raise InvalidResponse(
                    reason="wrong_shape",
                    detail=f"expected an object, got {type(answer.body).__name__}",
                    request_id=answer.request_id,
                    upstream_status=answer.status,
                )
        except CapillaryError as exc:
            _stamp(exc, query.path, started)
            raise
        return JsonResult(
            raw=answer.body,
            raw_text=answer.text,
            request_id=answer.request_id,
            path=query.path,
            params=query.params(),
            status=answer.status,
            elapsed_ms=answer.elapsed_ms,
        )

    def _get_record(
        self, path: str, params: list[tuple[str, str]], extra: dict[str, Any], deadline_at: float
    ) -> CustomerResult:
        answer = self._get(path, params, extra, deadline_at)
        body = answer.body
        if body is None:
            raise InvalidResponse(
                reason="not_json",
                sentence="Capillary's answer was empty, where a customer record was expected.",
                detail="empty body",
                request_id=answer.request_id,
                upstream_status=answer.status,
            )
        if not isinstance(body, dict) or not _looks_like_id(body.get("id")):
            shape = (
                "object without a customer ID" if isinstance(body, dict) else type(body).__name__
            )
            raise InvalidResponse(
                reason="wrong_shape",
                detail=f"expected a customer object, got {shape}",
                request_id=answer.request_id,
                upstream_status=answer.status,
            )
        return CustomerResult(
            raw=body,
            raw_text=answer.text,
            request_id=answer.request_id,
            path=path,
            params=params,
            status=answer.status,
            elapsed_ms=answer.elapsed_ms,
        )

    def generate_token(
        self, key: str, secret: str, *, deadline_at: float | None = None
    ) -> tuple[str, float]:
        """Return a new OAuth access token and its lifetime in seconds."""
        started = time.monotonic()
        if deadline_at is None:
            deadline_at = started + self.deadline
        try:
            return self._generate_token(key, secret, deadline_at)
        except CapillaryError as exc:
            _stamp(exc, TOKEN_PATH, started)
            raise

    def _generate_token(self, key: str, secret: str, deadline_at: float) -> tuple[str, float]:
        answer = self._send(
            "POST", TOKEN_PATH, [], {}, {"key": key, "secret": secret}, deadline_at, {}
        )
        data = answer.body.get("data") if isinstance(answer.body, dict) else None
        token = data.get("accessToken") if isinstance(data, dict) else None
        if answer.status == 429 or answer.status >= 500:
            error = error_for(answer.status, answer.body, text=answer.text, headers=answer.headers)
            if error is not None:
                raise error
        if answer.status != 200 or not isinstance(token, str) or not token:
            # Bad key or secret, or an API client without the needed access group.
            raise AuthenticationFailed(
                request_id=answer.request_id,
                upstream_status=answer.status,
                detail="Failed to generate OAuth token",
            )
        ttl = data.get("ttlSeconds")
        if isinstance(ttl, bool) or not isinstance(ttl, int | float) or ttl <= 0:
            ttl = 60.0
        return token, float(ttl)

    def _send(
        self,
        method: str,
        path: str,
        params: list[tuple[str, str]],
        auth_headers: dict[str, str],
        json_body: Any,
        deadline_at: float,
        extra: dict[str, Any],
    ) -> _Answer:
        """Send one request and read its whole body before `deadline_at`."""
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": self.user_agent,
            **auth_headers,
        }
        started = time.monotonic()
        remaining = deadline_at - started
        if remaining <= 0:
            raise UpstreamTimeout(detail="deadline passed before the request was sent")
        timeout = (min(self.connect_timeout, remaining), min(self.read_timeout, remaining))
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                params=params,
                headers=headers,
                json=json_body,
                timeout=timeout,
                allow_redirects=False,
                stream=True,
            )
            with response:
                body = self._read(response, deadline_at)
        except CapillaryError as exc:
            # Raised while reading the body: the status line had arrived.
            if exc.upstream_status is None:
                exc.upstream_status = response.status_code
            if exc.request_id is None:
                exc.request_id = response.headers.get("X-Cap-Requestid") or None
            _stamp(exc, path, started)
            self._log_failure(method, path, started, exc.title, extra, exc)
            raise
        except requests.Timeout as exc:
            self._log_failure(method, path, started, "timeout", extra)
            raise UpstreamTimeout(detail=type(exc).__name__) from exc
        except requests.RequestException as exc:
            # Also catches urllib3 read errors that requests wraps (reset mid-body).
            self._log_failure(method, path, started, "unreachable", extra)
            raise UpstreamUnavailable(detail=type(exc).__name__) from exc
        elapsed_ms = (time.monotonic() - started) * 1000
        request_id = response.headers.get("X-Cap-Requestid") or None
        self.logger.info(
            "capillary %s %s status=%s elapsed_ms=%.1f request_id=%s customer_id=%s",
            method,
            path,
            response.status_code,
            elapsed_ms,
            request_id,
            extra.get("customer_id"),
            extra={
                "capillary_method": method,
                "capillary_path": path,
                "capillary_status": response.status_code,
                "capillary_request_id": request_id,
                "elapsed_ms": round(elapsed_ms, 1),
                **extra,
            },
        )
        text = body.decode("utf-8", errors="replace")
        failure = {"request_id": request_id, "upstream_status": response.status_code}
        decoded: Any = None
        try:
            decoded = json.loads(text.lstrip("\ufeff")) if text.strip() else None
        except RecursionError as exc:
            raise InvalidResponse(
                reason="too_deep", detail="JSON deeper than the parser allows", **failure
            ) from exc
        except ValueError as exc:
            if 200 <= response.status_code < 300:
                raise InvalidResponse(
                    reason="not_json", detail=f"body is not valid JSON: {exc}", **failure
                ) from exc
        if _deeper_than(decoded, MAX_JSON_DEPTH):
            raise InvalidResponse(
                reason="too_deep",
                sentence=(
                    "Capillary's answer was nested more deeply than the dashboard reads "
                    f"(over {MAX_JSON_DEPTH} levels)."
                ),
                detail=f"JSON nested over {MAX_JSON_DEPTH} levels",
                **failure,
            )
        return _Answer(
            response.status_code, response.headers, text, decoded, request_id, elapsed_ms
        )

    def _read(self, response: requests.Response, deadline_at: float) -> bytes:
        """Read the body in whatever pieces arrive, giving up at the deadline."""
        chunks: list[bytes] = []
        size = 0
        raw = response.raw
        declared = response.headers.get("Content-Length", "").strip()
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            raise self._too_large(response, f"Content-Length {declared}")
        while True:
            if time.monotonic() >= deadline_at:
                raise UpstreamTimeout(
                    detail="body not complete by the deadline",
                    request_id=response.headers.get("X-Cap-Requestid"),
                    upstream_status=response.status_code,
                )
            _limit_socket_wait(raw, min(self.read_timeout, deadline_at - time.monotonic()))
            # read1 returns as soon as any bytes arrive, so a trickling server cannot hold
            # us past the deadline by sending one byte just inside each read timeout.
            try:
                chunk = raw.read1(_CHUNK, decode_content=True)
            except Exception as exc:  # urllib3 errors, not yet wrapped by requests
                raise _wrap_read_error(exc) from exc
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            size += len(chunk)
            if size > self.max_body_bytes:
                raise self._too_large(response, f"body passed {self.max_body_bytes} bytes")

    def _too_large(self, response: requests.Response, detail: str) -> InvalidResponse:
        return InvalidResponse(
            reason="too_large",
            sentence=(
                "Capillary's answer was larger than the dashboard accepts "
                f"(over {_size_words(self.max_body_bytes)})."
            ),
            detail=detail,
            request_id=response.headers.get("X-Cap-Requestid"),
            upstream_status=response.status_code,
        )

    def _log_failure(
        self,
        method: str,
        path: str,
        started: float,
        what: str,
        extra: dict[str, Any],
        error: CapillaryError | None = None,
    ) -> None:
        fields = {f"capillary_{k}": v for k, v in error.log_fields().items()} if error else {}
        self.logger.warning(
            "capillary %s %s %s elapsed_ms=%.1f customer_id=%s",
            method,
            path,
            what,
            (time.monotonic() - started) * 1000,
            extra.get("customer_id"),
            extra={**fields, **extra},
        )


def _stamp(error: CapillaryError, path: str, started: float) -> None:
    """Give an error the request path and the time spent, unless it already has them."""
    if error.path is None:
        error.path = path
    if error.elapsed_ms is None:
        error.elapsed_ms = (time.monotonic() - started) * 1000


def _size_words(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MB"
    if size >= 1024:
        return f"{size / 1024:g} KB"
    return f"{size} bytes"


def _deeper_than(value: Any, limit: int) -> bool:
    """Return True if JSON `value` nests objects and arrays more than `limit` levels deep."""
    if not isinstance(value, dict | list):
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _limit_socket_wait(raw: Any, seconds: float) -> None:
    """Shorten the socket timeout so one silent read cannot outlast the deadline."""
    sock = getattr(getattr(raw, "_connection", None), "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError, ValueError):
            sock.settimeout(max(0.01, seconds))


def _wrap_read_error(exc: Exception) -> CapillaryError:
    if isinstance(exc, ReadTimeoutError | TimeoutError):
        return UpstreamTimeout(detail=type(exc).__name__)
    reason = exc.args[1] if len(exc.args) > 1 else exc
    if isinstance(exc, IncompleteRead) or isinstance(
        reason, IncompleteRead | http.client.IncompleteRead
    ):
        return InvalidResponse(reason="cut_short", detail=f"body cut short: {exc}", retryable=True)
    if isinstance(exc, ProtocolError | OSError):
        return UpstreamUnavailable(detail=type(exc).__name__)
    return InvalidResponse(reason="cut_short", detail=type(exc).__name__)


def _looks_like_id(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit())
