"""The customer page and its tabs: the header first, each tab's parts only when opened."""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from lookup import access, audit, recent, services, tabs
from lookup.capillary import CapillaryError, CustomerDeleted
from lookup.tabs import header
from lookup.views import common
from lookup.views.reveal import REVEAL_ONCE

logger = logging.getLogger(__name__)
PAGE = "lookup/customer.html"


def _tab_parts(request: HttpRequest, lookup: access.Lookup, tab: tabs.Tab) -> tuple[str, ...]:
    """Return the parts a tab shows; the raw tab shows every part of the customer cached now."""
    if tab.slug == "raw":
        return tuple(dict.fromkeys([*tabs.HEADER_PARTS, *common.cached_part_names(lookup)]))
    return tab.parts


def _refresh(request: HttpRequest, lookup: access.Lookup) -> tuple[bool, bool]:
    """Return (refresh now, refresh refused) for a `refresh=1` request."""
    if not lookup.refresh_asked:
        return False, False
    allowed = services.allow_refresh(request.user.pk, lookup.org, lookup.query.customer_id)
    return allowed, not allowed


def _build(tab: tabs.Tab, ctx: tabs.TabContext) -> tuple[dict[str, Any], str]:
    """Return the builder's extra context, or an empty one and why the tab can't be shown."""
    try:
        return tab.build(ctx), ""
    except Exception:  # a bug in one tab must not take the page down
        logger.exception("tab %s failed to build", tab.slug)
        return {}, "This tab could not be shown because of a dashboard error (it has been logged)."


def _tab_warnings(shown: dict[str, Any], in_place: Any = ()) -> list[tuple[str, str, Any]]:
    """Return each Capillary warning of the tab's parts once, with the first part that said it.

    The record's own warnings (merged customer, account not passed) are the header's, and
    those the tab shows in place (`in_place`, beside the section they concern) are not
    repeated above it.
    """
    seen = {warning.identity for warning in in_place}
    out = []
    for name, value in shown.items():
        if name == "base" or isinstance(value, CapillaryError):
            continue
        for warning in value.warnings:
            if warning.identity not in seen:
                seen.add(warning.identity)
                out.append((name, tabs.PART_LABELS.get(name, name), warning))
    return out


def _tab_context(
    request: HttpRequest,
    lookup: access.Lookup,
    tab: tabs.Tab,
    parts: dict[str, Any],
    refused: bool,
) -> dict[str, Any]:
    """Return everything a tab's partial needs (the contract with the tab templates)."""
    ctx = tabs.TabContext(
        org=lookup.org,
        query=lookup.query,
        options=lookup.options,
        tz=lookup.tz,
        parts=parts,
        org_param=lookup.org_param,
        # The raw tab also lists the Activity answers cached now (read, never fetched).
        activity=common.cached_activity(request, lookup) if tab.slug == "raw" else {},
    )
    names = _tab_parts(request, lookup, tab)
    extra, unavailable = _build(tab, ctx)
    shown = {name: parts[name] for name in names if name in parts}
    fetched = [value for value in shown.values() if not isinstance(value, CapillaryError)]
    context = {
        "org": lookup.org,
        "query": lookup.query,
        "options": lookup.options,
        "tz": lookup.tz,
        "parts": parts,
        "customer": getattr(ctx.data("base"), "customer", None),
        "ctx": ctx,
        "tab": tab,
        "links": ctx.links,
        "tab_url": ctx.links.tab(tab.slug),
        "tab_refresh_url": ctx.links.tab(tab.slug, refresh=True),
        "tab_data": min(fetched, key=lambda d: d.fetched_at) if fetched else None,
        "tab_errors": [
            (name, tabs.PART_LABELS.get(name, name), value)
            for name, value in shown.items()
            if isinstance(value, CapillaryError)
        ],
        "tab_warnings": _tab_warnings(shown, extra.get("warnings_in_place", ())),
        "tab_unavailable": unavailable,
        "refresh_refused": refused,
    }
    context.update(extra)
    return context


def _page_context(
    request: HttpRequest,
    lookup: access.Lookup,
    tab: tabs.Tab,
    parts: dict[str, Any],
    refused: bool,
) -> dict[str, Any]:
    """Return the whole page's context: the header, the tab list and the open tab."""
    context = _tab_context(request, lookup, tab, parts, refused)
    ctx: tabs.TabContext = context["ctx"]
    context.update(header.build(ctx))
    context["page_refresh_url"] = ctx.links.page(refresh=True, tab=tab.slug)
    context["tabs"] = [
        {"tab": t, "url": ctx.links.tab(t.slug), "selected": t.slug == tab.slug}
        for t in tabs.TABS
        if access.may_open_tab(request.user, t.slug)
    ]
    # "Who looked": the last views of this customer, for roles that may see the audit trail.
    context.update(audit.who_looked_context(request, lookup.org, lookup.query.customer_id))
    return context


def _fragment_wanted(request: HttpRequest) -> bool:
    """Return True for an htmx request that swaps part of the page (not a history restore)."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def _whole_page(request: HttpRequest, lookup: access.Lookup, tab: tabs.Tab) -> HttpResponse:
    """Fetch the header and tab parts in one concurrent call and render the whole page."""
    refresh, refused = _refresh(request, lookup)
    names = [*tabs.HEADER_PARTS, *_tab_parts(request, lookup, tab)]
    parts = common.fetch_parts(request, lookup, names, refresh=refresh)
    base = parts["base"]
    q = lookup.query
    where = {"org": lookup.org, "customer_id": q.customer_id, "source": q.source}
    if isinstance(base, CapillaryError):
        audit.record(
            request, audit.Action.LOOKUP, outcome=audit.outcome_of(base), detail=tab.slug, **where
        )
        if isinstance(base, CustomerDeleted):
            recent.forget(lookup.org, q.customer_id)
        return common.upstream_error_page(request, base, org=lookup.org, query=q)
    audit.record(request, audit.Action.LOOKUP, cache_hit=base.from_cache, detail=tab.slug, **where)
    recent.remember_page(request.user, lookup, parts)
    if refresh:
        audit.record(request, audit.Action.REFRESH, detail=tab.slug, **where)
    if tab.slug == "raw":
        audit.record(request, audit.Action.RAW, **where)
    context = _page_context(request, lookup, tab, parts, refused)
    context["revealed_once"] = _revealed_once(request, lookup)
    return render(request, PAGE, context)


def _revealed_once(request: HttpRequest, lookup: access.Lookup) -> dict[str, Any] | None:
    """Return the value a Reveal without JavaScript asked this page view to show, once."""
    once = request.session.pop(REVEAL_ONCE, None)
    if not once or str(once.get("customer")) != str(lookup.query.customer_id):
        return None
    return once


def _all_cached(parts: dict[str, Any]) -> bool | None:
    """Return whether every part came from the cache (None when the tab fetched none)."""
    if not parts:
        return None
    return all(getattr(part, "from_cache", False) for part in parts.values())


@vary_on_headers("HX-Request")
@access.customer_access_required
@require_GET
def customer(request: HttpRequest, lookup: access.Lookup) -> HttpResponse:
    """Show the customer: the header and the open tab (`?tab=`).

    An htmx GET (the header's Refresh) gets the header, and the open tab's body out of band.
    """
    slug = request.GET.get("tab") or tabs.DEFAULT_TAB
    tab = tabs.TAB_BY_SLUG.get(slug)
    if tab is None:
        return common.bad_input(request, f"There is no tab called {slug[:40]!r}.")
    if not _fragment_wanted(request):
        return _whole_page(request, lookup, tab)
    # The header's Refresh link: a new header, and the open tab's body out of band, from the
    # same (one) upstream call, so the two say the same age.
    refresh, refused = _refresh(request, lookup)
    names = [*tabs.HEADER_PARTS, *_tab_parts(request, lookup, tab)]
    parts = common.fetch_parts(request, lookup, names, refresh=refresh)
    q = lookup.query
    where = {"org": lookup.org, "customer_id": q.customer_id, "source": q.source}
    audit.record(request, audit.Action.REFRESH if refresh else audit.Action.LOOKUP, **where)
    context = _page_context(request, lookup, tab, parts, refused)
    context["header_refresh_refused"] = refused
    header = render_to_string(f"{PAGE}#header", context, request)
    body = render_to_string(f"{PAGE}#tab-body", context, request)
    return HttpResponse(f'{header}<div id="tabpanel" hx-swap-oob="innerHTML">{body}</div>')


@vary_on_headers("HX-Request")
@access.customer_access_required
@require_GET
def customer_tab(request: HttpRequest, lookup: access.Lookup, slug: str) -> HttpResponse:
    """Show one tab: htmx gets its fragment, a plain GET the whole page with it open."""
    tab = tabs.TAB_BY_SLUG.get(slug)
    if tab is None:
        return common.error_page(request, "Not found", "There is no such tab.", 404)
    if not _fragment_wanted(request):
        return _whole_page(request, lookup, tab)
    refresh, refused = _refresh(request, lookup)
    parts = common.fetch_parts(request, lookup, _tab_parts(request, lookup, tab), refresh=refresh)
    q = lookup.query
    where = {"org": lookup.org, "customer_id": q.customer_id, "source": q.source}
    failed = [p for p in parts.values() if isinstance(p, CapillaryError)]
    audit.record(
        request,
        audit.Action.TAB,
        detail=tab.slug,
        outcome=audit.outcome_of(failed[0]) if failed else audit.Outcome.OK,
        cache_hit=_all_cached(parts),
        **where,
    )
    if refresh:
        audit.record(request, audit.Action.REFRESH, detail=tab.slug, **where)
    if tab.slug == "raw":
        audit.record(request, audit.Action.RAW, **where)
    context = _tab_context(request, lookup, tab, parts, refused)
    return render(request, f"{PAGE}#tab-body", context)
