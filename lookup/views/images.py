"""Customer and associated images, fetched server-side from their pre-signed URLs."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from urllib.parse import urlsplit

import requests
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from lookup import access, audit
from lookup.capillary import CapillaryError
from lookup.tabs.groups import IMAGE_KINDS
from lookup.views import common

logger = logging.getLogger(__name__)
MAX_BYTES = 5 * 1024 * 1024
TIMEOUT = (3.05, 5.0)  # connect, read between bytes
DEADLINE = 10.0  # seconds for the whole image
# Raster types only: an SVG could carry script if opened on its own.
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
EXPIRY_MARGIN = timedelta(seconds=10)


def _plain(message: str, status: int) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def _pick(parts: dict, part: str, index: int) -> tuple[object | None, CapillaryError | None]:
    value = parts.get(part)
    if isinstance(value, CapillaryError):
        return None, value
    customer = value.customer
    images = customer.customer_images if part == "customerImage" else customer.associated_images
    return (images[index] if index < len(images) else None), None


def _download(url: str) -> tuple[bytes, str] | str:
    """Return (body, content type) of the image, or why it could not be had."""
    if urlsplit(url).scheme not in ("http", "https"):
        return "The image URL is not a web address."
    started = time.monotonic()
    try:
        # No credentials: a pre-signed URL carries its own; redirects are not followed.
        with requests.get(url, timeout=TIMEOUT, stream=True, allow_redirects=False) as answer:
            if answer.status_code != HTTPStatus.OK:
                return f"The image store answered {answer.status_code}."
            kind = answer.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if kind not in IMAGE_TYPES:
                return "The image store did not send an image."
            length = answer.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > MAX_BYTES:
                return "The image is too large to show."
            body = bytearray()
            for chunk in answer.iter_content(64 * 1024):
                body += chunk
                if len(body) > MAX_BYTES:
                    return "The image is too large to show."
                if time.monotonic() - started > DEADLINE:
                    return "The image store is too slow."
            return bytes(body), kind
    except requests.RequestException as exc:
        logger.warning("image fetch failed: %s", type(exc).__name__)
        return "The image store could not be reached."


@access.customer_access_required
@require_GET
def customer_image(
    request: HttpRequest, lookup: access.Lookup, kind: str, index: int
) -> HttpResponse:
    """Send one of the customer's images, never exposing its URL or the org's credentials."""
    part = IMAGE_KINDS.get(kind)
    if part is None:
        return _plain("There is no such kind of image.", HTTPStatus.NOT_FOUND)
    image, error = _pick(common.fetch_parts(request, lookup, [part]), part, index)
    expires = getattr(image, "expires_at", None)
    if image is not None and expires is not None and expires - EXPIRY_MARGIN < datetime.now(UTC):
        # The cached URL has run out: ask Capillary for a newly signed one.
        image, error = _pick(common.fetch_parts(request, lookup, [part], refresh=True), part, index)
        expires = getattr(image, "expires_at", None)
    q = lookup.query
    where = {"org": lookup.org, "customer_id": q.customer_id, "source": q.source}
    if error is not None:
        audit.record(request, audit.Action.IMAGE, outcome=audit.Outcome.UPSTREAM_ERROR, **where)
        return _plain(f"{error.title}: {error.message}", HTTPStatus.BAD_GATEWAY)
    if image is None or not image.url:
        return _plain("Capillary returned no such image.", HTTPStatus.NOT_FOUND)
    result = _download(image.url)
    if isinstance(result, str):
        audit.record(request, audit.Action.IMAGE, outcome=audit.Outcome.UPSTREAM_ERROR, **where)
        return _plain(result, HTTPStatus.BAD_GATEWAY)
    audit.record(request, audit.Action.IMAGE, detail=f"{kind} {index}", **where)
    body, content_type = result
    response = HttpResponse(body, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response
