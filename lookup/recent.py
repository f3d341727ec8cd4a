"""Recent and pinned customers per user, shown on the search page within the user's access."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from lookup import access
from lookup.models import Org, RecentCustomer

KEEP = 20


def remember(
    user: AbstractBaseUser,
    org: Org,
    customer_id: int,
    source: str,
    account_id: str = "",
    *,
    name: str = "",
    tier: str = "",
) -> None:
    """Put this customer at the top of the user's recent list (name and tier as shown)."""
    where = {
        "user": user,
        "org": org,
        "customer_id": customer_id,
        "source": source,
        "account_id": account_id,
    }
    values = {"name": str(name)[:120], "tier": str(tier)[:120], "at": timezone.now()}
    try:
        with transaction.atomic():
            RecentCustomer.objects.update_or_create(**where, defaults=values)
    except IntegrityError:  # two tabs opened the same customer at once
        RecentCustomer.objects.filter(**where).update(**values)
    stale = RecentCustomer.objects.filter(user=user, pinned=False).values_list("pk", flat=True)[
        KEEP:
    ]
    RecentCustomer.objects.filter(pk__in=list(stale)).delete()


def forget(org: Org, customer_id: int) -> None:
    """Drop a customer from everyone's lists (deleted after a PII request: keep no name)."""
    RecentCustomer.objects.filter(org=org, customer_id=customer_id).delete()


def set_pinned(user: AbstractBaseUser, pk: int, pinned: bool) -> bool:
    """Pin or unpin one of the user's customers; return whether it was theirs."""
    return bool(RecentCustomer.objects.filter(user=user, pk=pk).update(pinned=pinned))


def lists(user: AbstractBaseUser) -> dict[str, list[RecentCustomer]]:
    """Return the user's pinned and recent customers that their grants still cover."""
    orgs = {org.pk: org for org in access.orgs_for(user)}
    rows = (
        RecentCustomer.objects.filter(user=user, org_id__in=list(orgs))
        .select_related("org")
        .order_by("-at", "-id")
    )
    visible = [r for r in rows if access.may_see(user, orgs[r.org_id], r.source)]
    return {
        "pinned": [r for r in visible if r.pinned],
        "recent": [r for r in visible if not r.pinned][:KEEP],
    }


def remember_page(user: AbstractBaseUser, lookup: Any, parts: dict[str, Any]) -> None:
    """Remember a customer page view, with the name and tiers as this viewer saw them."""
    query = lookup.query
    base, mlp = parts.get("base"), parts.get("mlp")
    name = getattr(getattr(base, "customer", None), "display_name", "")
    programs = getattr(getattr(mlp, "customer", None), "all_programs", ())
    tier = ", ".join(dict.fromkeys(p.current_slab for p in programs if p.current_slab))
    remember(
        user, lookup.org, query.customer_id, query.source, query.account_id, name=name, tier=tier
    )
