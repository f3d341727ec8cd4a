"""Fault injection: fixed fault customer IDs and the canned failure answers.

Each fault name is also a customer ID that always answers with it (FAULT_IDS). Besides the
HTTP and Capillary errors, there is one per way an answer can be unreadable: `too_large`
(9 MiB), `redirect` (302), `malformed_json` and `html_error` (not JSON), `cut_short` (the
connection closes before Content-Length is reached), `too_deep` (100 nested arrays) and
`wrong_shape` (a JSON array); and one per way Capillary says a customer was deleted after a
PII request: `pii_deleted` (`errors[]` code 8109, HTTP 400), `pii_deleted_message` (a
top-level `message`, HTTP 200) and `pii_deleted_v11` (the v1.1 envelope, HTTP 500). The
`status` option changes the HTTP status of the PII and redirect faults.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# Customer IDs that always answer with a fault (no runtime setup needed).
FAULT_IDS: dict[str, int] = {
    "http_500": 900000500,
    "http_503": 900000503,
    "rate_limited": 900000429,
    "rate_limited_517": 900000517,
    "http_521": 900000521,
    "http_461": 900000461,
    "timeout": 900000408,
    "trickle": 900000101,
    "malformed_json": 900000102,
    "html_error": 900000502,
    "wrong_shape": 900000103,
    "pii_deleted": 900008109,
    "pii_deleted_message": 900018109,
    "pii_deleted_v11": 900118109,
    "merged": 900008069,
    "not_permitted": 900000403,
    "bad_request": 900000400,
    "not_found_8065": 900008065,
    "points_warning": 900008062,
    "not_found": 900008015,
    "unauthorized": 900000401,
    "redirect": 900000302,
    "too_large": 900000413,
    "too_deep": 900000104,
    "cut_short": 900000105,
}
FAULT_NAMES = frozenset(FAULT_IDS)
FAULT_BY_ID = {customer_id: name for name, customer_id in FAULT_IDS.items()}
# Faults answered after the normal record is built (the rest are canned).
RECORD_FAULTS = frozenset({"timeout", "trickle", "malformed_json", "points_warning", "cut_short"})

HTML_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
POINTS_WARNING = {"status": False, "code": 8062, "message": "Points details fetch failed"}
AUTH_FAILED = "Authentication failed. Please check username and password."
PII_DELETED = "Customer is deleted after PII delete request"
# Past the dashboard's 8 MiB limit on an answer.
TOO_LARGE_BYTES = 9 * 1024 * 1024
TOO_DEEP_LEVELS = 100


@dataclass
class Fault:
    """A fault to apply to a request, with its options (retry_after, seconds, interval, survivor_id)."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Canned:
    """A complete canned HTTP answer."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def _error(status: int, code: int, message: str, *more: tuple[int, str]) -> Canned:
    errors = [{"status": False, "code": c, "message": m} for c, m in ((code, message), *more)]
    return Canned(status, json.dumps({"errors": errors}).encode())


def _v11_deleted(customer_id: int) -> dict[str, Any]:
    """Return the v1.1 envelope Capillary sends for a customer deleted after a PII request."""
    item_status = {
        "success": "false",
        "code": "8109",
        "message": PII_DELETED,
        "warnings": {"warning": []},
    }
    status = {
        "success": "false",
        "code": 500,
        "message": "All requests have failed due to errors",
        "total": "1",
        "success_count": "0",
    }
    customer = {"id": str(customer_id), "item_status": item_status}
    return {"response": {"status": status, "customers": {"customer": [customer]}}}


def survivor_of(customer_id: int) -> int:
    """Return the generated customer that a merge victim was merged into."""
    return 100_000_000 + customer_id % 10_000


def canned(fault: Fault, customer_id: int) -> Canned | None:
    """Return the canned answer for ``fault``, or None if it needs the customer record."""
    name, options = fault.name, fault.options
    if name == "http_500":
        return _error(500, 500, "Failed due to errors")
    if name == "http_503":
        return Canned(
            503, b'{"errors":[{"code":4001,"message":"Authorization status unavailable!"}]}'
        )
    if name == "rate_limited":
        answer = _error(429, 429, "Too many requests")
        answer.headers["Retry-After"] = str(options.get("retry_after", 7))
        return answer
    if name == "rate_limited_517":
        return _error(400, 517, "Rate limit exceeded for that specific user")
    if name == "http_521":
        return _error(
            521, 521, "Multiple actions running for the same customer, please retry later"
        )
    if name == "http_461":
        return _error(461, 461, "Search engine is busy, please try again later")
    if name == "html_error":
        return Canned(502, HTML_502.encode(), "text/html; charset=utf-8")
    if name == "wrong_shape":
        return Canned(200, json.dumps([{"id": customer_id, "warnings": []}]).encode())
    if name == "pii_deleted":
        return _error(int(options.get("status", 400)), 8109, PII_DELETED)
    if name == "pii_deleted_message":
        # The v2 page documents only this message, with no code or `errors` array.
        body = {"message": PII_DELETED}
        return Canned(int(options.get("status", 200)), json.dumps(body).encode())
    if name == "pii_deleted_v11":
        return Canned(
            int(options.get("status", 500)), json.dumps(_v11_deleted(customer_id)).encode()
        )
    if name == "redirect":
        answer = Canned(
            int(options.get("status", 302)),
            b"<html><body>Moved</body></html>",
            "text/html; charset=utf-8",
        )
        answer.headers["Location"] = "/__sandbox/moved"
        return answer
    if name == "too_large":
        size = int(options.get("bytes", TOO_LARGE_BYTES))
        head = json.dumps({"id": customer_id, "padding": ""}).encode()[:-2]
        return Canned(200, head + b"x" * size + b'"}')
    if name == "too_deep":
        levels = int(options.get("levels", TOO_DEEP_LEVELS))
        nested = "[" * levels + "]" * levels
        return Canned(200, f'{{"id": {customer_id}, "extendedFields": {{"x": {nested}}}}}'.encode())
    if name == "merged":
        survivor = int(options.get("survivor_id", survivor_of(customer_id)))
        return _error(
            400,
            8069,
            "Merged customer found",
            (91009, f"Retrieved survivor account for the requested merge victim: {survivor}"),
        )
    if name == "not_permitted":
        return _error(403, 4000, "Not authorized. Access is denied!")
    if name == "bad_request":
        return _error(400, 400, "Bad Request")
    if name == "not_found_8065":
        return _error(400, 8065, "User not found for given source")
    if name == "not_found":
        return _error(404, 8015, "Customer not found for the given identifiers")
    if name == "unauthorized":
        return _error(401, 401, AUTH_FAILED)
    return None
