"""The search box: find a customer from a mobile, email, card, external ID, ID or name.

Searches are POSTs, so what was typed never reaches a URL, the browser's history or
an access log; one match redirects (303) to the customer page, whose URL carries only
the customer ID and source.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from lookup import access, audit, recent, roles, throttle
from lookup.capillary import CapillaryError, CustomerMerged
from lookup.forms import FindForm, LookupForm
from lookup.models import Org
from lookup.privacy import mask_for
from lookup.search import resolve
from lookup.search.classify import Reading, Unreadable, read
from lookup.search.orgs import current_org, remember_org
from lookup.views.pages import customer_url

PAGE = "lookup/search.html"


def page_context(request: HttpRequest, orgs: list[Org], org: Org | None, **extra: Any) -> dict:
    """Return what the search page shows besides the result: forms, recent and pinned."""
    context = {
        "orgs": orgs,
        "org": org,
        "form": LookupForm(orgs=orgs, initial={"source": org.default_source if org else "INSTORE"}),
        "find_form": FindForm(orgs=orgs, org=org),
        **recent.lists(request.user),
    }
    context.update(extra)
    return context


def _see_other(url: str) -> HttpResponseRedirect:
    """Redirect after a POST with 303, so a reload does not search again."""
    return HttpResponseRedirect(url, status=HTTPStatus.SEE_OTHER)


def _choice_url(choice: resolve.Choice, org: Org, orgs: list[Org]) -> str:
    return customer_url(choice, org.slug, several_orgs=len(orgs) > 1)


def _record(
    request: HttpRequest,
    org: Org,
    source: str,
    reading: Reading | None,
    *,
    outcome: str,
    matches: int = 0,
    customer_id: int | None = None,
    detail: str = "",
) -> None:
    """Audit one search: the kind of identifier, masked, and how many customers it found."""
    if reading is not None:
        detail = f"{reading.kind} {mask_for(reading.kind, reading.value)}: {matches} found"
    audit.record(
        request,
        audit.Action.SEARCH,
        org=org,
        source=source,
        customer_id=customer_id,
        outcome=outcome,
        detail=detail,
    )


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """Show the search box, recent and pinned customers, and the lookup by ID and source.

    The lookup by ID is a GET (`?customer_id=`): a customer ID is no secret, and the
    customer page's URL carries it anyway.
    """
    orgs = access.orgs_for(request.user)
    org = current_org(request, orgs)
    context = page_context(request, orgs, org)
    if "customer_id" in request.GET:
        form = LookupForm(request.GET, orgs=orgs)
        if form.is_valid():
            chosen = form.cleaned_data["org"]
            return redirect(customer_url(form.query, chosen.slug, several_orgs=len(orgs) > 1))
        context["form"] = form
        context["id_form_open"] = True
        return render(request, PAGE, context, status=HTTPStatus.BAD_REQUEST)
    return render(request, PAGE, context)


@login_required
@require_POST
@sensitive_post_parameters("q")
def find(request: HttpRequest) -> HttpResponse:
    """Read the box, ask Capillary, and open the only match or show what was found."""
    orgs = access.orgs_for(request.user)
    form = FindForm(request.POST, orgs=orgs)
    org = current_org(request, orgs)
    if not form.is_valid() or org is None:
        context = page_context(request, orgs, org, find_form=form)
        return render(request, PAGE, context, status=HTTPStatus.BAD_REQUEST)
    data = form.cleaned_data
    org = data["org"] or org
    source = data["source"] or org.default_source
    account_id = data["account_id"].strip() if "account_id" in request.POST else ""
    account_id = account_id or (org.default_account_id if not data["source"] else "")
    if not access.may_see(request.user, org, source):
        return access.deny(request, org=org, source=source, detail="search source")
    remember_org(request, org)

    def answer(status: int = HTTPStatus.OK, **extra: Any) -> HttpResponse:
        context = page_context(request, orgs, org, find_form=form, **extra)
        return render(request, PAGE, context, status=status)

    try:
        reading = read(data["q"], org.default_country, data["search_as"] or "auto")
    except Unreadable as exc:
        form.add_error("q", exc.message)
        _record(request, org, source, None, outcome=audit.Outcome.INVALID, detail="unreadable")
        return answer(HTTPStatus.BAD_REQUEST)
    if reading.kind == "customer_id":
        # No lookup needed: the customer page makes the one call (and counts the lookup).
        _record(request, org, source, reading, outcome=audit.Outcome.OK, matches=1)
        choice = resolve.Choice(int(reading.value), source, account_id)
        return _see_other(_choice_url(choice, org, orgs))
    wait = throttle.lookup_limit_wait(request.user.pk)
    if wait is not None:
        return access.too_many(request, wait, org=org, source=source)
    if reading.kind == "name":
        if not org.name_search:
            form.add_error("q", "Name search is not switched on for this org: search by mobile, "
                           "email, card, external ID or customer ID.")  # fmt: skip
            _record(request, org, source, reading, outcome=audit.Outcome.INVALID)
            return answer(HTTPStatus.BAD_REQUEST)
        result = resolve.find_by_name(org, reading)
    else:
        allowed = access.allowed_sources(request.user, org)
        sources = resolve.sources_to_ask(org, source, account_id, allowed)
        result = resolve.find(org, reading, sources, account_id)
    result.choices = [c for c in result.choices if access.may_see(request.user, org, c.source)]
    return _answer_search(request, org, orgs, source, form, result, answer)


def _answer_search(
    request: HttpRequest,
    org: Org,
    orgs: list[Org],
    source: str,
    form: FindForm,
    result: resolve.Result,
    answer: Any,
) -> HttpResponse:
    """Count, audit and show the result: open the only match, or the chooser, or why not."""
    reading = result.reading
    ids = list(dict.fromkeys(c.customer_id for c in result.choices))
    for customer_id in ids:
        throttle.lookup_retry_after(request.user.pk, customer_id)
    if not ids:
        throttle.lookup_retry_after(
            request.user.pk, throttle.search_key(reading.kind, reading.value)
        )
    failure, merged = result.failure, result.merged
    outcome = (
        audit.Outcome.OK
        if ids
        else audit.Outcome.UPSTREAM_ERROR
        if failure is not None
        else audit.Outcome.NOT_FOUND
    )
    only = ids[0] if len(ids) == 1 else None
    _record(request, org, source, reading, outcome=outcome, matches=len(ids), customer_id=only)
    if len(result.choices) == 1:
        return _see_other(_choice_url(result.choices[0], org, orgs))
    context: dict[str, Any] = {"result": result, "reading": reading}
    if result.choices:
        choices = resolve.masked_choices(result.choices, roles.sees_pii(request.user))
        context["choices"] = [(c, _choice_url(c, org, orgs)) for c in choices]
        return answer(**context)
    field_error = result.field_error
    if field_error is not None:
        name, message = field_error
        form.add_error(name if name in form.fields else "q", message)
        return answer(HTTPStatus.BAD_REQUEST, **context)
    if isinstance(merged, CustomerMerged):
        context["merged"] = merged
        if merged.survivor_id:
            survivor = resolve.Choice(merged.survivor_id, source)
            context["survivor_url"] = _choice_url(survivor, org, orgs)
        return answer(HTTPStatus.CONFLICT, **context)
    if isinstance(failure, CapillaryError):
        context["failure"] = failure
        response = answer(failure.status, **context)
        if getattr(failure, "retry_after", None):
            response["Retry-After"] = str(int(failure.retry_after))
        return response
    asked = set(result.sources)
    context["other_sources"] = [
        s
        for s in ("INSTORE", "MARTJACK", "WECHAT", "LINE", "ALL")
        if s not in asked and access.may_see(request.user, org, s)
    ]
    return answer(HTTPStatus.NOT_FOUND, **context)


@login_required
@require_POST
@sensitive_post_parameters("q")
def find_names(request: HttpRequest) -> HttpResponse:
    """Suggest customers by name as the agent types (htmx), where the org switched it on."""
    orgs = access.orgs_for(request.user)
    form = FindForm(request.POST, orgs=orgs)
    org = current_org(request, orgs)
    form.is_valid()
    org = form.cleaned_data.get("org") or org
    text = (request.POST.get("q") or "").strip()
    context: dict[str, Any] = {"suggestions": [], "org": org}
    if org is None or not org.name_search or len(text) < 3:
        return render(request, f"{PAGE}#suggestions", context)
    try:
        reading = read(text, org.default_country, "auto")
    except Unreadable:
        return render(request, f"{PAGE}#suggestions", context)
    if reading.kind != "name":
        return render(request, f"{PAGE}#suggestions", context)
    if throttle.lookup_limit_wait(request.user.pk) is not None:
        context["suggestions_refused"] = True
        return render(request, f"{PAGE}#suggestions", context)
    result = resolve.find_by_name(org, reading, limit=8)
    choices = [c for c in result.choices if access.may_see(request.user, org, c.source)]
    throttle.lookup_retry_after(request.user.pk, throttle.search_key("name", reading.value))
    _record(
        request,
        org,
        "ALL",
        reading,
        outcome=audit.Outcome.UPSTREAM_ERROR if result.failure else audit.Outcome.OK,
        matches=len(choices),
    )
    choices = resolve.masked_choices(choices, roles.sees_pii(request.user))
    context["suggestions"] = [(c, _choice_url(c, org, orgs)) for c in choices]
    context["suggestions_failed"] = result.failure is not None
    return render(request, f"{PAGE}#suggestions", context)


@login_required
@require_POST
def pin(request: HttpRequest, pk: int) -> HttpResponse:
    """Pin or unpin one of the user's recent customers; back to the search page."""
    recent.set_pinned(request.user, pk, request.POST.get("pinned") == "1")
    return redirect("search")
