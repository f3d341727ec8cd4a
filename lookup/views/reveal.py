"""Reveal one masked personal value for one page view, on the record."""

from __future__ import annotations

import datetime as dt
import json
import re
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from lookup import access, audit, privacy, roles, services
from lookup.capillary import CapillaryError, CustomerQuery, InvalidQuery, activity
from lookup.tabs import CustomerLinks
from lookup.templatetags.lookup_tags import calendar_day

TEMPLATE = "lookup/_pii.html"
REVEAL_ONCE = "lookup.reveal_once"  # session key: a value revealed without JavaScript


def _widget(request: HttpRequest, error: str, status: int = HTTPStatus.OK) -> HttpResponse:
    # htmx swaps only 2xx answers, so a refusal the person can act on is a 200 with a message.
    return render(request, TEMPLATE, {"value": "", "error": error}, status=status)


@access.customer_access_required
@require_POST
def reveal(request: HttpRequest, lookup: access.Lookup) -> HttpResponse:
    """Show the clear value a signed reference points at, and record that it was shown."""
    org, source, customer_id = lookup.org, lookup.query.source, str(lookup.query.customer_id)
    try:
        org_pk, ref_customer, params, path = privacy.read_ref(request.POST.get("ref", ""))
    except (signing.BadSignature, ValueError, TypeError):
        return _widget(
            request, "This page is too old to reveal from; reload it.", HTTPStatus.BAD_REQUEST
        )
    ref_source = dict(params).get("source", "").upper()
    if org_pk != org.pk or str(ref_customer) != customer_id or ref_source != source:
        return access.deny(
            request, org=org, customer_id=ref_customer, source=source, detail="reveal ref"
        )
    if not roles.may_reveal(request.user):
        return access.deny(
            request,
            status=HTTPStatus.FORBIDDEN,
            org=org,
            customer_id=ref_customer,
            source=source,
            detail="reveal",
            message="Your role cannot reveal personal data.",
        )
    reason = " ".join(request.POST.get("reason", "").split())[:200]
    if roles.reveal_needs_reason(request.user) and not reason:
        return _widget(request, "Give a reason (such as the ticket number) to reveal this.")
    try:
        data = _answer_holding(org, customer_id, params)
    except InvalidQuery:
        return _widget(request, "This value cannot be revealed.", HTTPStatus.BAD_REQUEST)
    except CapillaryError as exc:
        audit.record(
            request,
            audit.Action.REVEAL,
            org=org,
            customer_id=ref_customer,
            source=source,
            outcome=audit.Outcome.UPSTREAM_ERROR,
            detail=_path(path),
        )
        return _widget(request, f"Capillary did not answer: {exc.title}.")
    value = privacy.value_at(json.loads(data.raw_text), path)
    audit.record(
        request,
        audit.Action.REVEAL,
        org=org,
        customer_id=ref_customer,
        source=source,
        outcome=audit.Outcome.OK if value is not None else audit.Outcome.NOT_FOUND,
        cache_hit=data.from_cache,
        detail=_path(path),
        reason=reason,
    )
    if value is None:
        return _widget(request, "That value is no longer on record.")
    shown = readable(value)
    if not request.htmx:
        # Without JavaScript the form posted the whole page away: go back to it, showing the
        # value there once. It waits in the session (never in a URL) for that one page view.
        request.session[REVEAL_ONCE] = {"customer": customer_id, "path": path, "value": shown}
        return redirect(_back(request, lookup))
    return render(request, TEMPLATE, {"value": shown, "revealed": True, "masked": True})


def _back(request: HttpRequest, lookup: access.Lookup) -> str:
    """Return the customer page the reveal came from (its Referer when it is one), else the page."""
    page = CustomerLinks(lookup.query, lookup.options, lookup.org_param).page()
    referer = request.headers.get("Referer", "")
    parts = urlsplit(referer)
    customer_path = page.split("?", 1)[0]
    if url_has_allowed_host_and_scheme(
        referer, {request.get_host()}, request.is_secure()
    ) and parts.path.startswith(customer_path):
        return f"{parts.path}?{parts.query}" if parts.query else parts.path
    return page


def readable(value: object) -> object:
    """Return a revealed ISO date ("1990-05-17", or a datetime at midnight) as "17 May 1990".

    Personal dates (birthdays, anniversaries) stand for days; anything else as it is.
    """
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ].*)?", value):
        return value
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.time() != dt.time(0) and moment.utcoffset() is None:
        return value
    day = calendar_day(moment)
    return f"{day.day} {day:%b %Y}"


def _answer_holding(org: Any, customer_id: str, params: list[tuple[str, str]]) -> Any:
    """Return the (cached, else fetched) answer a reference points into.

    A reference into an Activity panel names the panel; it points into that panel's answer
    (coupon codes), read through the panel's own cached part.
    """
    named = dict(params)
    panel = named.pop("panel", "")
    if not panel:
        return services.fetch_customer(org, CustomerQuery.parse(customer_id, **named))
    number = int(customer_id)
    query = {"coupons": activity.coupons}.get(panel)
    if query is None:
        raise InvalidQuery("panel", "This value cannot be revealed.")
    return services.fetch_customer(org, query(number, named.get("source", "INSTORE")))


def _path(path: list) -> str:
    return ".".join(str(step) for step in path)[:120]
