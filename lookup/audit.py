"""The audit trail: who looked at which customer, when, and what came of it."""

from __future__ import annotations

import logging
import re
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from lookup import metrics
from lookup.inputs import whole_number
from lookup.models import AuditRecord, Org

logger = logging.getLogger("lookup.audit")
Action = AuditRecord.Action
Outcome = AuditRecord.Outcome
# What counts as "looking" in the Who looked panel.
VIEW_ACTIONS = (Action.LOOKUP, Action.TAB, Action.REFRESH, Action.REVEAL, Action.RAW)
# What counts as a page view when dividing upstream calls by page views.
PAGE_VIEW_ACTIONS = (Action.LOOKUP, Action.TAB, Action.REFRESH)


_CONTROL = dict.fromkeys([*range(32), 127])
_SLUG = re.compile(r"[-a-zA-Z0-9_]+")


def _clean(value: object, limit: int) -> str:
    """Return printable text cut to the column's length (PostgreSQL refuses NUL bytes)."""
    return str(value or "").translate(_CONTROL)[:limit]


def client_ip(request: HttpRequest) -> str | None:
    """Return the client's address, trusting X-Forwarded-For only from known proxies."""
    hops = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if hops and forwarded:
        chain = [part.strip() for part in forwarded.split(",") if part.strip()]
        if len(chain) >= hops:
            return chain[-hops] or None
    return request.META.get("REMOTE_ADDR") or None


def outcome_of(error: Any) -> str:
    """Return the audit outcome of a Capillary failure (a CapillaryError)."""
    if error.status == 404:
        return Outcome.NOT_FOUND
    if error.status == 429:
        return Outcome.RATE_LIMITED
    return Outcome.UPSTREAM_ERROR


def record(
    request: HttpRequest,
    action: str,
    *,
    org: Org | None = None,
    requested_org: str = "",
    customer_id: int | str | None = None,
    source: str = "",
    outcome: str = Outcome.OK,
    cache_hit: bool | None = None,
    detail: str = "",
    reason: str = "",
) -> AuditRecord:
    """Write one audit record (actions: lookup, tab, refresh, reveal, raw, image, export, denied).

    `requested_org` is the org slug a refused request asked for when `org` is None: the
    record names that org when one has the slug, so its reviewers see the attempt, and
    keeps the text as typed when none has.
    """
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    requested = ""
    if org is None and requested_org:
        org = _org_named(requested_org)
        requested = "" if org is not None else _clean(requested_org, 60)
    entry = AuditRecord.objects.create(
        user_id=user.pk if signed_in else None,
        username=_clean(user.get_username(), 150) if signed_in else "",
        org_id=org.pk if org is not None else None,
        org_slug=org.slug if org is not None else "",
        requested_org=requested,
        # An invalid ID is not personal data, but it is not an ID either.
        customer_id=whole_number(customer_id, 1),
        source=_clean(source, 20),
        action=str(action),
        detail=_clean(detail, 120),
        reason=_clean(reason, 200),
        outcome=str(outcome),
        cache_hit=cache_hit,
        client_ip=client_ip(request),
        request_id=_clean(getattr(request, "request_id", ""), 64),
    )
    metrics.AUDIT_WRITES.labels(entry.action, entry.outcome).inc()
    if entry.action in PAGE_VIEW_ACTIONS and entry.org_slug:
        metrics.PAGE_VIEWS.labels(entry.org_slug).inc()
    logger.info(
        "audit %s %s",
        entry.action,
        entry.outcome,
        extra={"audit_action": entry.action, "outcome": entry.outcome, "org": entry.org_slug},
    )
    return entry


def _org_named(slug: str) -> Org | None:
    """Return the org with this slug, active or not, whoever may see it.

    Text that cannot be a slug (too long, NUL bytes PostgreSQL refuses) is not looked up.
    """
    if len(slug) > Org._meta.get_field("slug").max_length or not _SLUG.fullmatch(slug):
        return None
    return Org.objects.filter(slug=slug).only("pk", "slug").first()


def who_looked(org: Org, customer_id: int, *, limit: int = 10) -> list[dict[str, Any]]:
    """Return the last views of this customer in this org, newest first."""
    rows = (
        AuditRecord.objects.filter(org_id=org.pk, customer_id=customer_id, action__in=VIEW_ACTIONS)
        .order_by("-at", "-id")
        .values("at", "username", "action", "detail", "outcome")[:limit]
    )
    return list(rows)


def who_looked_context(request: HttpRequest, org: Org, customer_id: int) -> dict[str, Any]:
    """Return the context of templates/lookup/_who-looked.html (empty for roles not allowed)."""
    from lookup import roles

    if not roles.may_see_audit(request.user):
        return {"who_looked": None}
    return {"who_looked": who_looked(org, customer_id), "who_looked_customer": customer_id}
