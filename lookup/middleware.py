"""Request context (a request ID on every request, response and log line) and no-store."""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
customer_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("customer_id", default="-")
user_var: contextvars.ContextVar[str] = contextvars.ContextVar("user", default="-")

# A trusted proxy's request ID is kept only when it is short and plain, so it is safe in logs.
_INCOMING_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
logger = logging.getLogger("lookup.request")


def new_request_id(request: HttpRequest) -> str:
    """Return the trusted proxy's X-Request-ID, or a new one.

    A client's own header is ignored: the ID is stored with every audit record, so
    only a proxy the dashboard trusts (TRUSTED_PROXY_COUNT > 0) may choose it.
    """
    if settings.TRUSTED_PROXY_COUNT > 0:
        incoming = request.headers.get("X-Request-ID", "")
        if _INCOMING_ID.fullmatch(incoming):
            return incoming
    return uuid.uuid4().hex


def set_customer(customer_id: int | str) -> None:
    """Name the customer this request is about, for its log lines."""
    customer_id_var.set(str(customer_id))


def set_user(username: str) -> None:
    """Name the signed-in user, for this request's log lines."""
    user_var.set(username or "-")


class RequestContextMiddleware:
    """Give each request an ID, put it (and who and which customer) in every log line."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.request_id = new_request_id(request)
        tokens = [
            (request_id_var, request_id_var.set(request.request_id)),
            (customer_id_var, customer_id_var.set("-")),
            (user_var, user_var.set("-")),
        ]
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                user_var.set(user.get_username())
            response["X-Request-ID"] = request.request_id
            # Paths only, never query strings: those are for IDs, but keep the log lean.
            logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "status": response.status_code,
                    "method": request.method,
                    "path": request.path,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            return response
        finally:
            for var, token in reversed(tokens):
                var.reset(token)


class NoStoreMiddleware:
    """Keep every answer to a signed-in viewer out of browser and proxy caches.

    Signed-in pages carry customer data (pages, tabs, raw JSON, reveals, images, search
    results) or audit data, and desks are shared: none of it may stay on a disk or in a
    proxy. One rule for every view, so a new one cannot forget it; decided before the
    view runs, so the answer to a sign-out is covered too. Sends Django's never_cache
    headers: `Cache-Control: max-age=0, no-cache, no-store, must-revalidate, private`.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        signed_in = request.user.is_authenticated
        response = self.get_response(request)
        if signed_in:
            add_never_cache_headers(response)
        return response


class RequestContextFilter(logging.Filter):
    """Add request_id, customer_id and user to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.customer_id = customer_id_var.get()
        record.user = user_var.get()
        return True


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Answer a failed CSRF check with the dashboard's 403 page (no reason details)."""
    return render(
        request,
        "403.html",
        {
            "message": "This form has expired or came from another site. Reload the page and try again."
        },
        status=403,
    )
