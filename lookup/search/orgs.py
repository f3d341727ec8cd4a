"""The org a search runs in: the user's last choice while still granted (the org switcher)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from lookup import access
from lookup.models import Org, UserPreference


def current_org(request: HttpRequest, orgs: list[Org]) -> Org | None:
    """Return the org the user last searched in, if still granted, else their first."""
    if len(orgs) <= 1:
        return orgs[0] if orgs else None
    pref = UserPreference.objects.filter(user=request.user).only("last_org_id").first()
    last = pref.last_org_id if pref is not None else None
    return next((o for o in orgs if o.pk == last), orgs[0])


def remember_org(request: HttpRequest, org: Org) -> None:
    """Make `org` the user's choice for the next search."""
    UserPreference.objects.update_or_create(user=request.user, defaults={"last_org": org})


def top_bar(request: HttpRequest) -> dict[str, Any]:
    """Template context: the orgs the top bar's switcher offers, read only when shown."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    known: dict[str, Any] = {}

    def orgs() -> list[Org]:
        if "orgs" not in known:
            known["orgs"] = access.orgs_for(user)
        return known["orgs"]

    # Callables: the template calls them only on pages that render the top bar's box.
    return {
        "search_orgs": orgs,
        "search_org": lambda: current_org(request, orgs()),
    }
