"""Who may look up what: org and source grants, role checks, and the view decorators.

Every customer URL (page, tabs, images, reveal) is wrapped in
`customer_access_required`, which decides once, before any cache read or upstream call:
no grant for the org or source answers 404 (the same as a customer that does not
exist, so grants cannot be probed); a role without the raw response asking for it
answers 403; too many distinct customers answers 429; a customer ID, source or page
option that cannot be used answers 400. The view then receives the viewer's `Lookup`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from http import HTTPStatus

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from lookup import audit, roles, tabs, throttle, viewer
from lookup.capillary import CustomerQuery, InvalidQuery
from lookup.inputs import whole_number
from lookup.middleware import set_customer, set_user
from lookup.models import Org

View = Callable[..., HttpResponse]
# Tabs only some roles may open: slug -> predicate on the user.
RESTRICTED_TABS: dict[str, Callable[[AbstractBaseUser], bool]] = {"raw": roles.may_see_raw}


def _grants(user: AbstractBaseUser) -> dict[int, tuple[Org, set[str] | None, set[str] | None]]:
    """Return org pk -> (org, sources granted, store codes granted) for the user's active
    orgs; None for all sources or all stores.

    Read once a request (one query, see lookup.viewer.grants) and kept on the user
    object, which lives for one request.
    """
    known = getattr(user, "_lookup_grants", None)
    if known is None:
        known = {
            org.pk: (
                org,
                None if sources is None else set(sources),
                None if stores is None else set(stores),
            )
            for org, sources, stores in viewer.grants(user)
        }
        user._lookup_grants = known
    return known


def orgs_for(user: AbstractBaseUser) -> list[Org]:
    """Return the active orgs this user was granted (every org for a superuser)."""
    return [grant[0] for grant in _grants(user).values()]


def allowed_sources(user: AbstractBaseUser, org: Org) -> set[str] | None:
    """Return the sources this user may see in the org, None for all, empty for none."""
    if user.is_superuser:
        return None
    found = _grants(user).get(org.pk)
    if found is None:
        return set()
    return found[1]


def allowed_stores(user: AbstractBaseUser, org: Org) -> set[str] | None:
    """Return the store codes whose bills this user sees in the org, None for all, empty for
    none (read with the grants, once a request)."""
    if user.is_superuser:
        return None
    found = _grants(user).get(org.pk)
    if found is None:
        return set()
    return found[2]


def resolve_org(user: AbstractBaseUser, slug: str | None) -> Org | None:
    """Return the org named by slug (or the user's only/first org) if the user may see it."""
    orgs = orgs_for(user)
    if slug:
        return next((org for org in orgs if org.slug == slug), None)
    return orgs[0] if orgs else None


def may_see(user: AbstractBaseUser, org: Org, source: str) -> bool:
    """Return whether the user's grant in this org covers this source."""
    sources = allowed_sources(user, org)
    return sources is None or source.strip().upper() in sources


def may_open_tab(user: AbstractBaseUser, slug: str) -> bool:
    check = RESTRICTED_TABS.get(slug)
    return check is None or check(user)


def deny(
    request: HttpRequest,
    *,
    status: int = HTTPStatus.NOT_FOUND,
    org: Org | None = None,
    requested_org: str = "",
    customer_id: object = None,
    source: str = "",
    detail: str = "",
    message: str | None = None,
) -> HttpResponse:
    """Record a failed access attempt and answer 404 (or 403) in the dashboard's look."""
    audit.record(
        request,
        audit.Action.DENIED,
        org=org,
        requested_org=requested_org,
        customer_id=customer_id,
        source=source,
        outcome=audit.Outcome.DENIED,
        detail=detail,
    )
    context = {"message": message} if message else {}
    template = "403.html" if status == HTTPStatus.FORBIDDEN else "404.html"
    return render(request, template, context, status=status)


def too_many(request: HttpRequest, retry_after: int, **audit_fields: object) -> HttpResponse:
    """Record and answer a lookup over the user's rate limit."""
    audit.record(
        request,
        audit.Action.DENIED,
        outcome=audit.Outcome.RATE_LIMITED,
        detail="rate limit",
        **audit_fields,
    )
    response = render(request, "429.html", {"retry_after": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def _param(request: HttpRequest, name: str) -> str:
    value = request.GET.get(name)
    if value is None and request.method == "POST":
        value = request.POST.get(name)
    return (value or "").strip()


@dataclass(frozen=True)
class Lookup:
    """What a viewer may look up and asked for: org, customer query, page options, zone."""

    org: Org
    query: CustomerQuery
    options: tabs.PageOptions
    org_param: str  # the `org` URL parameter as given ("" when the user has one org)
    tz: str
    refresh_asked: bool


def error_page(
    request: HttpRequest, title: str, message: str, status: int, **extra: object
) -> HttpResponse:
    """Render the customer error page with this status."""
    context = {"title": title, "message": message, "status": status, **extra}
    return render(request, "lookup/customer-error.html", context, status=status)


def bad_input(request: HttpRequest, message: str) -> HttpResponse:
    """Answer 400 with a message saying what to fix."""
    return error_page(request, "That lookup can't be made", message, HTTPStatus.BAD_REQUEST)


def _given(request: HttpRequest, name: str, default: str) -> str:
    """Return the parameter as given (even empty), or the default when it is absent."""
    for params in (request.GET, request.POST):
        if name in params:
            return params[name]
    return default


def _lookup(
    request: HttpRequest, org: Org, customer_id: str, source: str, asked: str
) -> Lookup | HttpResponse:
    """Return the checked Lookup, or the 400 page saying what cannot be used."""
    try:
        query = CustomerQuery.parse(
            customer_id,
            source=source or org.default_source,
            account_id=_given(request, "accountId", org.default_account_id),
        )
        options = tabs.parse_options(request.GET)
    except (InvalidQuery, tabs.BadOption) as exc:
        return bad_input(request, exc.message)
    refresh = request.GET.get("refresh", "")
    if refresh not in ("", "0", "1"):
        return bad_input(request, "Refresh must be 1 or 0.")
    tz = viewer.facts(request.user)["tz"] or org.time_zone
    return Lookup(org, query, options, asked, tz, refresh == "1")


def customer_access_required(view: View) -> View:
    """Let the view run only for a signed-in user granted the org, source (and tab).

    Decides from the URL before any cache read or upstream call, records every refusal,
    and calls `view(request, lookup, ...)` with the viewer's Lookup.
    """

    @wraps(view)
    def wrapper(
        request: HttpRequest, customer_id: str, *args: object, **kwargs: object
    ) -> HttpResponse:
        user = request.user
        set_user(user.get_username())
        asked = _param(request, "org")
        org = resolve_org(user, asked or None)
        source = (_param(request, "source") or (org.default_source if org else "")).upper()
        number = whole_number(customer_id, 1)
        if number is not None:
            set_customer(number)
        if org is None:
            return deny(
                request, requested_org=asked, customer_id=number, source=source[:20], detail="org"
            )
        if not may_see(user, org, source):
            return deny(request, org=org, customer_id=number, source=source[:20], detail="source")
        slug = str(kwargs.get("slug") or kwargs.get("tab") or request.GET.get("tab") or "")
        if not may_open_tab(user, slug):
            return deny(
                request,
                status=HTTPStatus.FORBIDDEN,
                org=org,
                customer_id=number,
                source=source,
                detail=f"tab {slug}"[:120],
                message="Your role does not include this tab. Loyalty ops and admins can open it.",
            )
        if number is not None:
            wait = throttle.lookup_retry_after(user.pk, number)
            if wait is not None:
                return too_many(request, wait, org=org, customer_id=number, source=source)
        lookup = _lookup(request, org, customer_id, source, asked)
        if isinstance(lookup, HttpResponse):
            return lookup
        return view(request, lookup, *args, **kwargs)

    return login_required(wrapper)


def permission_required(check: Callable[[AbstractBaseUser], bool]) -> Callable[[View], View]:
    """Let the view run only for a signed-in user whose role passes `check` (else 403)."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            if not check(request.user):
                return deny(request, status=HTTPStatus.FORBIDDEN, detail=request.path[:120])
            return view(request, *args, **kwargs)

        return login_required(wrapper)

    return decorator
