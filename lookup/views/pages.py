"""General pages: search."""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from lookup import access
from lookup.forms import LookupForm


def customer_url(query, org_slug: str, *, several_orgs: bool) -> str:
    params = {"source": query.source}
    if query.account_id:
        params["accountId"] = query.account_id
    if several_orgs:
        params["org"] = org_slug
    return reverse("customer", args=[query.customer_id]) + "?" + urlencode(params)


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """Show the lookup form; a valid submission goes to the customer page."""
    orgs = access.orgs_for(request.user)
    status = HTTPStatus.OK
    if "customer_id" in request.GET:
        form = LookupForm(request.GET, orgs=orgs)
        if form.is_valid():
            org = form.cleaned_data["org"]
            return redirect(customer_url(form.query, org.slug, several_orgs=len(orgs) > 1))
        status = HTTPStatus.BAD_REQUEST
    else:
        default_source = orgs[0].default_source if orgs else "INSTORE"
        form = LookupForm(orgs=orgs, initial={"source": default_source})
    return render(request, "lookup/search.html", {"form": form, "orgs": orgs}, status=status)
