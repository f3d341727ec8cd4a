"""The Activity tab's panels: transactions, coupons, points ledger, goodwill and the timeline.

Each panel is its own URL, loaded by the tab after it is shown (never on the first paint of
the customer page), each one cached part and at most one upstream call when not cached.
An htmx request gets the panel's fragment; a plain GET the panel on a page of its own.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from lookup import access, audit, roles, services
from lookup.activity import ledger, panels
from lookup.activity.stores import is_other
from lookup.capillary import CapillaryError
from lookup.capillary import activity as q
from lookup.capillary.records.activity import Bill, Ledger, goodwill_from_raw
from lookup.tabs.links import CustomerLinks, link
from lookup.views import common

TEMPLATE = "lookup/activity/panels.html"
PAGE = "lookup/activity/page.html"
# The record's parts the timeline merges in (one call for those not cached).
RECORD_PARTS = ("points", "slabHistory", "expirySchedules")


def panel_url(
    lookup: access.Lookup, name: str, *pairs: tuple[str, str], refresh: bool = False
) -> str:
    """Return a panel's URL for this customer, with filter `pairs`."""
    return CustomerLinks(lookup.query, lookup.options, lookup.org_param).panel(
        name, *pairs, refresh=refresh
    )


def _render(
    request: HttpRequest, lookup: access.Lookup, name: str, context: dict[str, Any]
) -> HttpResponse:
    data = context.get("data")
    if isinstance(data, services.PanelData) and common.may_see_raw_activity(request, lookup):
        # Loyalty ops see the answer as Capillary sent it, like the Raw response tab.
        context["raw_json"] = json.dumps(data.raw, indent=2, ensure_ascii=False)
        context["raw_request"] = f"GET {data.query.path}?{urlencode(data.query.params())}"
        audit.record(
            request,
            audit.Action.RAW,
            org=lookup.org,
            customer_id=lookup.query.customer_id,
            source=lookup.query.source,
            detail=f"activity:{name}",
        )
    context.update(
        org=lookup.org,
        query=lookup.query,
        tz=lookup.tz,
        panel=name,
        panel_label=q.PANELS.get(name, "Timeline"),
        retry_url=context.get("retry_url") or panel_url(lookup, name, refresh=True),
        links=CustomerLinks(lookup.query, lookup.options, lookup.org_param),
    )
    if request.htmx and not request.htmx.history_restore_request:
        response = render(request, f"{TEMPLATE}#panel-{name}", context)
        # The tab loads its panels in turn: the next one listens for this event.
        response["HX-Trigger-After-Settle"] = f"activity-{name}-loaded"
        return response
    return render(request, PAGE, context)


def _audit(
    request: HttpRequest,
    lookup: access.Lookup,
    name: str,
    results: list[Any],
) -> None:
    failed = [r for r in results if isinstance(r, CapillaryError)]
    q_ = lookup.query
    audit.record(
        request,
        audit.Action.TAB,
        org=lookup.org,
        customer_id=q_.customer_id,
        source=q_.source,
        detail=f"activity:{name}",
        outcome=audit.outcome_of(failed[0]) if failed else audit.Outcome.OK,
        cache_hit=all(getattr(r, "from_cache", False) for r in results) if results else None,
    )


def store_limit(request: HttpRequest, lookup: access.Lookup) -> set[str] | None:
    """Return the store codes whose bills this viewer may see, or None for every store."""
    return access.allowed_stores(request.user, lookup.org)


@vary_on_headers("HX-Request")
@access.customer_access_required
@require_GET
def panel(request: HttpRequest, lookup: access.Lookup, name: str) -> HttpResponse:
    """Show one Activity panel (its own cached part; one upstream call when not cached)."""
    if name not in panels.PANELS:
        return common.error_page(request, "Not found", "There is no such panel.", 404)
    refresh = lookup.refresh_asked and services.allow_refresh(
        request.user.pk, lookup.org, lookup.query.customer_id
    )
    try:
        return VIEWS[name](request, lookup, refresh)
    except panels.BadFilter as exc:
        return common.bad_input(request, exc.message)


def _transactions(request: HttpRequest, lookup: access.Lookup, refresh: bool) -> HttpResponse:
    f = panels.TransactionFilter.parse(request.GET)
    query = panels.transactions_query(lookup.query.customer_id, lookup.query.source, f)
    result = services.fetch(lookup.org, {"p": query}, refresh=refresh)["p"]
    _audit(request, lookup, "transactions", [result])
    context: dict[str, Any] = {"filter": f, "data": result, "bill_types": q.BILL_TYPES}
    context["retry_url"] = panel_url(lookup, "transactions", *f.pairs(), refresh=True)
    if not isinstance(result, CapillaryError):
        context.update(panels.transactions(result, f, store_limit(request, lookup)))
        for key in ("prev_offset", "next_offset"):
            offset = context[key]
            context[key.replace("offset", "url")] = (
                None
                if offset is None
                else panel_url(lookup, "transactions", *f.pairs(offset=offset))
            )
        context["rows"] = [(t, why, bill_url(lookup, t)) for t, why in context["rows"]]
    base = [("source", lookup.query.source)]
    if lookup.org_param:
        base.append(("org", lookup.org_param))
    context["filter_base"] = base
    context["filter_url"] = panel_url(lookup, "transactions")
    context["bill_number_url"] = link("activity-bill-number", (lookup.query.customer_id,))
    return _render(request, lookup, "transactions", context)


def _coupons(request: HttpRequest, lookup: access.Lookup, refresh: bool) -> HttpResponse:
    query = q.coupons(lookup.query.customer_id, lookup.query.source)
    result = services.fetch(lookup.org, {"p": query}, refresh=refresh)["p"]
    _audit(request, lookup, "coupons", [result])
    context: dict[str, Any] = {"data": result}
    if not isinstance(result, CapillaryError):
        mask = None
        if not roles.sees_pii(request.user):
            params = [("source", lookup.query.source), ("panel", "coupons"), *query.params()]
            mask = panels.masked_code(lookup.org.pk, lookup.query.customer_id, params)
        now, stores = dt.datetime.now(dt.UTC), store_limit(request, lookup)
        context["coupons"] = panels.coupon_rows(result, now, mask, stores)
    return _render(request, lookup, "coupons", context)


def _ledger(request: HttpRequest, lookup: access.Lookup, refresh: bool) -> HttpResponse:
    customer_id, source = lookup.query.customer_id, lookup.query.source
    at = ledger.LedgerPage.parse(request.GET, customer_id)
    # A page of the ledger and the transfers: two parts, side by side; either may fail alone.
    queries = {
        "ledger": q.ledger(customer_id, source, at.page),
        "transfers": q.transfers(customer_id, source),
    }
    results = services.fetch(lookup.org, queries, refresh=refresh)
    result, transfers = results["ledger"], results["transfers"]
    record: dict[str, Any] = {}
    page = None if isinstance(result, CapillaryError) else Ledger.from_raw(result.raw)
    if page is not None and ledger.needs_record_balance(at, page):
        record = common.fetch_parts(request, lookup, ("points",))
    _audit(request, lookup, "ledger", [*results.values(), *record.values()])
    context: dict[str, Any] = {"data": result, "transfers_data": transfers}
    context["retry_url"] = panel_url(lookup, "ledger", *at.pairs(), refresh=True)
    if page is not None:
        balance, stores = panels.record_balance(record), store_limit(request, lookup)
        context.update(ledger.context(page, at, customer_id, balance, stores))
        for side in ("older", "newer"):
            pairs = context[f"{side}_pairs"]
            context[f"{side}_url"] = None if pairs is None else panel_url(lookup, "ledger", *pairs)
    if not isinstance(transfers, CapillaryError):
        context["transfers"] = panels.transfer_rows(transfers, roles.sees_pii(request.user))
    return _render(request, lookup, "ledger", context)


def _goodwill(request: HttpRequest, lookup: access.Lookup, refresh: bool) -> HttpResponse:
    query = q.goodwill(lookup.query.customer_id, lookup.query.source)
    result = services.fetch(lookup.org, {"p": query}, refresh=refresh)["p"]
    _audit(request, lookup, "goodwill", [result])
    context: dict[str, Any] = {"data": result}
    if not isinstance(result, CapillaryError):
        context["requests"] = goodwill_from_raw(result.raw)
    return _render(request, lookup, "goodwill", context)


def _timeline(request: HttpRequest, lookup: access.Lookup, refresh: bool) -> HttpResponse:
    kinds = [k for k in request.GET.getlist("kind") if k in panels.timeline.KINDS]
    until = panels.day(request.GET, "until", "Jump-to date")
    queries = panels.panel_queries(lookup.query.customer_id, lookup.query.source)
    # The four panels side by side (each cached, or one call), and the record's two parts.
    results = services.fetch(lookup.org, queries, refresh=refresh)
    record = common.fetch_parts(request, lookup, RECORD_PARTS)
    _audit(request, lookup, "timeline", [*results.values(), *record.values()])
    now, stores = dt.datetime.now(dt.UTC), store_limit(request, lookup)
    context = panels.timeline_context(results, record, kinds, until, now, stores)
    context["filter_url"] = panel_url(lookup, "timeline")
    return _render(request, lookup, "timeline", context)


VIEWS = {
    "transactions": _transactions,
    "coupons": _coupons,
    "ledger": _ledger,
    "goodwill": _goodwill,
    "timeline": _timeline,
}


def bill_url(lookup: access.Lookup, transaction: Any) -> str:
    pairs = [("source", lookup.query.source), ("type", transaction.type)]
    if lookup.org_param:
        pairs.append(("org", lookup.org_param))
    return link("activity-bill", (lookup.query.customer_id, transaction.id), tuple(pairs))


@vary_on_headers("HX-Request")
@access.customer_access_required
@require_GET
def bill(request: HttpRequest, lookup: access.Lookup, transaction_id: int) -> HttpResponse:
    """Show one bill's line items, only when the bill is this customer's."""
    bill_type = request.GET.get("type", "REGULAR").upper()
    query = q.bill(lookup.query.customer_id, transaction_id, bill_type, lookup.query.source)
    return _show_bill(request, lookup, query)


@vary_on_headers("HX-Request")
@access.customer_access_required
@require_GET
def bill_by_number(request: HttpRequest, lookup: access.Lookup) -> HttpResponse:
    """Find a bill by its number; show it only when it is this customer's (numbers repeat)."""
    number = request.GET.get("number", "").strip()
    if not number or len(number) > 100:
        return common.bad_input(request, "Give a bill number (up to 100 characters).")
    query = q.bill_by_number(lookup.query.customer_id, number, lookup.query.source)
    return _show_bill(request, lookup, query, number=number)


def _show_bill(
    request: HttpRequest, lookup: access.Lookup, query: q.ActivityQuery, number: str = ""
) -> HttpResponse:
    result = services.fetch(lookup.org, {"p": query})["p"]
    context: dict[str, Any] = {"data": result, "number": number}
    if not isinstance(result, CapillaryError):
        found = Bill.of_customer(result.raw, lookup.query.customer_id)
        if found is not None and is_other(
            found.transaction.store_code, store_limit(request, lookup)
        ):
            found = None
        if found is None and not number:
            # A bill of someone else is never shown, nor said to exist.
            return access.deny(
                request, org=lookup.org, customer_id=lookup.query.customer_id, detail="bill"
            )
        context["bill"] = found
    _audit(request, lookup, "bill", [result])
    return _render(request, lookup, "bill", context)
