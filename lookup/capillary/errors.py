"""Errors raised by the Capillary client, and the mapping from upstream answers to them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

PII_DELETED_MESSAGE = "Customer is deleted after PII delete request"
# Capillary's wording varies a little by API version and proxy ("was deleted", "PII deletion").
_PII_DELETED = re.compile(
    r"customer\s+(?:(?:is|was|has\s+been)\s+)?deleted\s+after\s+(?:an?\s+|the\s+)?"
    r"pii[\s_-]+delet(?:e|ion)\s+request",
    re.IGNORECASE,
)

NOT_FOUND_CODES = frozenset({8015, 8065, 1011, 1012, 816})
DELETED_CODES = frozenset({8109})
MERGED_CODES = frozenset({8069})
SURVIVOR_CODES = frozenset({91009})
NOT_PERMITTED_CODES = frozenset({4000, 1044})
RATE_LIMITED_CODES = frozenset({517})
UPSTREAM_CODES = frozenset({4001, 521, 461})
_SURVIVOR_KEYS = ("survivorId", "survivor_id", "survivorUserId", "survivorCustomerId", "mergedInto")


class CapillaryError(Exception):
    """Base of every client error; `status` is what the dashboard page should answer."""

    status = 502
    title = "Capillary error"
    default_message = "Capillary could not answer this request."
    retryable = False
    # Why an answer could not be read (InvalidResponse only); None for every other error.
    reason: str | None = None
    path: str | None = None
    elapsed_ms: float | None = None

    def __init__(
        self,
        message: str | None = None,
        *,
        code: int | None = None,
        request_id: str | None = None,
        upstream_status: int | None = None,
        retry_after: float | None = None,
        retryable: bool | None = None,
        detail: str = "",
        path: str | None = None,
        elapsed_ms: float | None = None,
    ) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)
        self.code = code
        self.request_id = request_id
        # The HTTP status Capillary answered with (None when there was no answer).
        self.upstream_status = upstream_status
        self.retry_after = retry_after
        if retryable is not None:
            self.retryable = retryable
        # Extra words for logs only (never credentials); the UI shows `message`.
        self.detail = detail
        # The request path and how long the call took; the client fills them in.
        self.path = path
        self.elapsed_ms = elapsed_ms

    def log_fields(self) -> dict[str, Any]:
        """Return what a log line needs: no credentials, no personal data, no Capillary text."""
        fields: dict[str, Any] = {
            "error": type(self).__name__,
            "path": self.path,
            "upstream_status": self.upstream_status,
            "elapsed_ms": round(self.elapsed_ms, 1) if self.elapsed_ms is not None else None,
            "code": self.code,
            "request_id": self.request_id,
        }
        if self.reason is not None:
            fields["reason"] = self.reason
        return fields

    def __repr__(self) -> str:
        reason = f", reason={self.reason!r}" if self.reason is not None else ""
        return (
            f"{type(self).__name__}(status={self.status}, code={self.code}, "
            f"upstream_status={self.upstream_status}, request_id={self.request_id!r}{reason})"
        )


class BadRequest(CapillaryError):
    status = 400
    title = "Bad request"
    default_message = "Capillary rejected the request."


class AuthenticationFailed(CapillaryError):
    status = 502
    title = "Capillary credentials rejected"
    default_message = "Capillary rejected this organisation's stored API credentials."


class NotPermitted(CapillaryError):
    status = 403
    title = "Not permitted"
    default_message = "This organisation's API client is not allowed to read customer details."


class CustomerNotFound(CapillaryError):
    status = 404
    title = "Customer not found"
    default_message = "No customer with this ID was found."


class CustomerDeleted(CapillaryError):
    status = 410
    title = "Customer deleted"
    default_message = "This customer was deleted after a PII delete request."


class CustomerMerged(CapillaryError):
    status = 409
    title = "Customer merged"
    default_message = "This customer was merged into another account."

    def __init__(
        self, message: str | None = None, *, survivor_id: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.survivor_id = survivor_id


class RateLimited(CapillaryError):
    status = 429
    title = "Too many requests"
    default_message = "Capillary is rate limiting this organisation; try again shortly."
    retryable = True


class UpstreamError(CapillaryError):
    status = 502
    title = "Capillary error"
    default_message = "Capillary failed to answer; try again shortly."
    retryable = True


class UpstreamTimeout(UpstreamError):
    status = 504
    title = "Capillary timed out"
    default_message = "Capillary took too long to answer; try again shortly."


class UpstreamUnavailable(UpstreamError):
    status = 502
    title = "Capillary unreachable"
    default_message = "Capillary could not be reached; try again shortly."


# Each way an answer can be unreadable, and the sentence the error page shows for it.
UNREADABLE_SENTENCES: dict[str, str] = {
    "too_large": "Capillary's answer was larger than the dashboard accepts.",
    "redirect": (
        "Capillary answered with a redirect instead of the customer; "
        "the dashboard does not follow redirects."
    ),
    "not_json": "Capillary's answer was not JSON, so it could not be read.",
    "cut_short": "Capillary's answer was cut short before it was complete.",
    "too_deep": "Capillary's answer was nested more deeply than the dashboard reads.",
    "wrong_shape": "Capillary's answer was JSON, but not a customer record.",
}
UNREADABLE_REASONS = frozenset(UNREADABLE_SENTENCES)


class InvalidResponse(UpstreamError):
    """An answer the dashboard could not read; `reason` says why and `sentence` says it plainly."""

    status = 502
    title = "Unreadable answer from Capillary"
    default_message = "Capillary sent an answer that could not be read."
    retryable = False

    def __init__(
        self,
        message: str | None = None,
        *,
        reason: str = "wrong_shape",
        sentence: str = "",
        **kwargs: Any,
    ) -> None:
        if reason not in UNREADABLE_REASONS:
            raise ValueError(f"unknown reason {reason!r}")
        super().__init__(message, **kwargs)
        self.reason = reason
        self.sentence = sentence or UNREADABLE_SENTENCES[reason]


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Return seconds to wait from a Retry-After header (delta seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return None
    return max(0.0, seconds)


def error_entries(body: Any) -> list[dict[str, Any]]:
    """Return the `errors[]` objects of a v2 body, tolerating any shape."""
    if not isinstance(body, dict) or not isinstance(body.get("errors"), list):
        return []
    return [entry for entry in body["errors"] if isinstance(entry, dict)]


def entry_code(entry: Mapping[str, Any]) -> int | None:
    code = entry.get("code")
    if isinstance(code, bool):
        return None
    if isinstance(code, int):
        return code
    if isinstance(code, str) and code.strip().isdigit():
        return int(code.strip())
    return None


def says_deleted(message: Any) -> bool:
    """Return True if Capillary's text says the customer was deleted after a PII request."""
    return isinstance(message, str) and _PII_DELETED.search(message) is not None


def _v11_items(body: Any) -> list[dict[str, Any]]:
    """Return the `item_status` objects of a v1.1 envelope (`response.customers.customer[]`)."""
    response = body.get("response") if isinstance(body, dict) else None
    customers = response.get("customers") if isinstance(response, dict) else None
    items = customers.get("customer") if isinstance(customers, dict) else None
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        return []
    return [
        item["item_status"]
        for item in items
        if isinstance(item, dict) and isinstance(item.get("item_status"), dict)
    ]


def deleted_answer(body: Any) -> tuple[bool, int | None]:
    """Return (True, Capillary's code or None) if the answer says the customer was PII-deleted.

    Capillary says it three ways: an `errors[]` entry with code 8109 or that message; a
    top-level `message`; or a v1.1 envelope whose `item_status` carries 8109 or the message.
    """
    if not isinstance(body, dict):
        return False, None
    entries = error_entries(body) + _v11_items(body)
    for entry in entries:
        if entry_code(entry) in DELETED_CODES:
            return True, entry_code(entry)
    for entry in entries:
        if says_deleted(entry.get("message")):
            return True, entry_code(entry)
    response = body.get("response")
    status = response.get("status") if isinstance(response, dict) else None
    if says_deleted(body.get("message")) or (
        isinstance(status, dict) and says_deleted(status.get("message"))
    ):
        return True, None
    return False, None


def find_survivor_id(body: Any) -> int | None:
    """Return the surviving customer ID named in a merge answer, if there is one."""
    if not isinstance(body, dict):
        return None
    warnings = body.get("warnings") if isinstance(body.get("warnings"), list) else []
    entries = [e for e in warnings if isinstance(e, dict)] + error_entries(body)
    entries.sort(key=lambda e: entry_code(e) not in SURVIVOR_CODES)
    for candidate in [body, *entries]:
        for key in _SURVIVOR_KEYS:
            value = candidate.get(key)
            if isinstance(value, str) and value.strip().isdigit():
                value = int(value)
            if type(value) is int and value > 0:
                return value
    for entry in entries:
        message = entry.get("message")
        if entry_code(entry) in SURVIVOR_CODES | MERGED_CODES and isinstance(message, str):
            numbers = re.findall(r"\b\d{3,19}\b", message)
            if numbers:
                return int(numbers[-1])
    return None


def error_for(
    http_status: int,
    body: Any,
    *,
    text: str = "",
    headers: Mapping[str, str] | None = None,
    request_id: str | None = None,
) -> CapillaryError | None:
    """Return the error an answer means, or None when it looks like a success.

    `body` is the parsed JSON (None when the body is not JSON) and `text` the raw body.
    """
    headers = headers or {}
    entries = error_entries(body)
    common: dict[str, Any] = {"request_id": request_id, "upstream_status": http_status}
    retry_after = parse_retry_after(headers.get("Retry-After"))

    # Capillary's own codes are more precise than the HTTP status, so look at them first.
    # A deleted customer is an answer, not an outage, whatever the status it came with.
    deleted, code = deleted_answer(body)
    if deleted:
        return CustomerDeleted(code=code, **common)
    by_code = {entry_code(e): e for e in entries}
    messages = [e.get("message") for e in entries if isinstance(e.get("message"), str)]
    for codes, cls in (
        (MERGED_CODES, CustomerMerged),
        (NOT_FOUND_CODES, CustomerNotFound),
        (NOT_PERMITTED_CODES, NotPermitted),
        (RATE_LIMITED_CODES, RateLimited),
        (UPSTREAM_CODES, UpstreamError),
    ):
        hit = sorted(codes & by_code.keys())
        if hit:
            extra: dict[str, Any] = {"detail": _text(by_code[hit[0]].get("message"))}
            if cls is CustomerMerged:
                extra["survivor_id"] = find_survivor_id(body)
            if cls in (RateLimited, UpstreamError):
                extra["retry_after"] = retry_after
            return cls(code=hit[0], **common, **extra)

    code = _first_code(entries)
    capillary_message = _text(messages[0]) if messages else ""
    if http_status == 400 or (
        entries and 400 <= http_status < 500 and http_status not in (401, 403, 404, 429)
    ):
        return BadRequest(capillary_message or None, code=code, **common)
    if http_status == 401:
        return AuthenticationFailed(code=code, detail=capillary_message, **common)
    if http_status == 403:
        return NotPermitted(code=code, detail=capillary_message, **common)
    if http_status == 404:
        return CustomerNotFound(code=code, detail=capillary_message, **common)
    if http_status == 429:
        return RateLimited(code=code, retry_after=retry_after, detail=capillary_message, **common)
    if http_status >= 500 or http_status in (461, 521):
        if body is None and text.strip():
            return InvalidResponse(
                code=code,
                reason="not_json",
                sentence=f"Capillary failed (HTTP {http_status}) with a page that is not JSON.",
                retryable=True,
                detail="HTML or text error page",
                **common,
            )
        return UpstreamError(code=code, retry_after=retry_after, detail=capillary_message, **common)
    if 300 <= http_status < 400:
        return InvalidResponse(
            reason="redirect",
            sentence=(
                f"Capillary answered with a redirect (HTTP {http_status}) instead of the "
                "customer; the dashboard does not follow redirects."
            ),
            detail=f"unexpected redirect {http_status}",
            **common,
        )
    if not 200 <= http_status < 300:
        return UpstreamError(code=code, detail=capillary_message, **common)
    if entries and not (isinstance(body, dict) and "id" in body):
        # A 200 that carries errors and no customer is still a failure.
        if code is not None and 8000 <= code < 9000:
            return BadRequest(capillary_message or None, code=code, **common)
        return UpstreamError(code=code, detail=capillary_message, retryable=False, **common)
    return None


def _first_code(entries: list[dict[str, Any]]) -> int | None:
    for entry in entries:
        code = entry_code(entry)
        if code is not None:
            return code
    return None


def _text(value: Any, limit: int = 300) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""
