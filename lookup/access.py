"""Which orgs and sources a user may look up."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from lookup.models import Org, OrgAccess


def orgs_for(user: AbstractBaseUser) -> list[Org]:
    """Return the active orgs this user was granted (every org for a superuser)."""
    orgs = Org.objects.filter(is_active=True)
    if not user.is_superuser:
        orgs = orgs.filter(grants__user=user)
    return list(orgs.order_by("name"))


def allowed_sources(user: AbstractBaseUser, org: Org) -> set[str] | None:
    """Return the sources this user may see in the org, None for all, empty for none."""
    if user.is_superuser:
        return None
    grant = OrgAccess.objects.filter(user=user, org=org).first()
    if grant is None:
        return set()
    return grant.allowed_sources()


def resolve_org(user: AbstractBaseUser, slug: str | None) -> Org | None:
    """Return the org named by slug (or the user's only/first org) if the user may see it."""
    orgs = orgs_for(user)
    if slug:
        return next((org for org in orgs if org.slug == slug), None)
    return orgs[0] if orgs else None


def may_see(user: AbstractBaseUser, org: Org, source: str) -> bool:
    sources = allowed_sources(user, org)
    return sources is None or source in sources
