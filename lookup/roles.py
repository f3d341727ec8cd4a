"""Roles: Django groups and what each may do (created by migration 0003_roles).

An org grant (OrgAccess) decides *which* customers a user may look up; the role
decides *what* of them the user sees. A user with a grant and no role sees what a
store manager sees: the least.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

STORE_MANAGER = "Store manager"
CALL_CENTRE_AGENT = "Call-centre agent"
LOYALTY_OPS = "Loyalty ops"
ADMIN = "Admin"

VIEW_PII = "lookup.view_pii"
REVEAL_PII = "lookup.reveal_pii"
REVEAL_WITHOUT_REASON = "lookup.reveal_pii_without_reason"
VIEW_RAW = "lookup.view_raw_response"
VIEW_AUDIT = "lookup.view_auditrecord"
EXPORT_AUDIT = "lookup.export_auditrecord"

_LOYALTY_OPS = [
    "lookup.view_pii",
    "lookup.view_raw_response",
    "lookup.view_auditrecord",
    "lookup.export_auditrecord",
]
# Group name -> "app_label.codename" permissions. Migration 0003_roles holds a frozen copy.
ROLES: dict[str, list[str]] = {
    STORE_MANAGER: [],
    CALL_CENTRE_AGENT: ["lookup.reveal_pii"],
    LOYALTY_OPS: _LOYALTY_OPS,
    ADMIN: [
        *_LOYALTY_OPS,
        "lookup.reveal_pii",
        "lookup.reveal_pii_without_reason",
        "auth.add_user",
        "auth.change_user",
        "auth.view_user",
        "auth.view_group",
        "lookup.add_orgaccess",
        "lookup.change_orgaccess",
        "lookup.delete_orgaccess",
        "lookup.view_orgaccess",
        "lookup.view_org",
    ],
}

User = AbstractBaseUser | AnonymousUser


def sees_pii(user: User) -> bool:
    """Return whether personal data is shown to this user unmasked."""
    return user.has_perm(VIEW_PII)


def may_reveal(user: User) -> bool:
    return user.has_perm(REVEAL_PII) or sees_pii(user)


def reveal_needs_reason(user: User) -> bool:
    return not user.has_perm(REVEAL_WITHOUT_REASON)


def may_see_raw(user: User) -> bool:
    return user.has_perm(VIEW_RAW)


def may_see_audit(user: User) -> bool:
    return user.has_perm(VIEW_AUDIT)


def may_export_audit(user: User) -> bool:
    return user.has_perm(EXPORT_AUDIT)


def role_names(user: User) -> list[str]:
    """Return the user's role names (for display)."""
    if not user.is_authenticated:
        return []
    if user.is_superuser:
        return ["Superuser"]
    return sorted(g.name for g in user.groups.all() if g.name in ROLES)


def ensure_groups() -> None:
    """Create any missing role group with its permissions (after a test database flush)."""
    from django.contrib.auth.models import Group, Permission

    for name, perms in ROLES.items():
        group, created = Group.objects.get_or_create(name=name)
        if created:
            for perm in perms:
                app_label, codename = perm.split(".")
                group.permissions.add(
                    Permission.objects.get(content_type__app_label=app_label, codename=codename)
                )
