"""General pages: the customer page's URL."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse


def customer_url(query, org_slug: str, *, several_orgs: bool) -> str:
    """Return the customer page's URL: the customer ID, source and account, and the org."""
    params = {"source": query.source}
    if query.account_id:
        params["accountId"] = query.account_id
    if several_orgs:
        params["org"] = org_slug
    return reverse("customer", args=[query.customer_id]) + "?" + urlencode(params)
