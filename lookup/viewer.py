"""What a page needs to know about its viewer (permissions, time zone), cached briefly.

Every customer page asks for the viewer's permissions (what to mask, which tabs) and
time zone. Read from the database they cost three queries a page; here they are one
cache read, kept for VIEWER_CACHE_SECONDS and dropped at once when a grant of
permissions, a group membership, the user or their preference changes. The user row
and the org grants are read from the database on every request (one query each), so a
deactivated user or a revoked grant takes effect on the very next request on every
server, whatever the cache holds.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver

from lookup.inputs import whole_number
from lookup.models import Org, OrgAccess, UserPreference


def _key(user_pk: int) -> str:
    return f"viewer:v3:{user_pk}"


def grants(user: Any) -> list[tuple[Org, tuple[str, ...] | None, tuple[str, ...] | None]]:
    """Return (org, sources granted, store codes granted) for the user's active orgs, by
    name; None for all sources or all stores."""
    if user.is_superuser:
        return [(org, None, None) for org in Org.objects.filter(is_active=True).order_by("name")]
    rows = (
        OrgAccess.objects.filter(user_id=user.pk, org__is_active=True)
        .select_related("org")
        .order_by("org__name")
    )
    granted = []
    for grant in rows:
        sources, stores = grant.allowed_sources(), grant.allowed_store_codes()
        granted.append(
            (
                grant.org,
                None if sources is None else tuple(sorted(sources)),
                None if stores is None else tuple(sorted(stores)),
            )
        )
    return granted


def facts(user: Any) -> dict[str, Any]:
    """Return {"perms": set of "app.codename", "tz": chosen zone or ""} for a signed-in user."""
    known = getattr(user, "_viewer_facts", None)
    if known is None:
        known = cache.get(_key(user.pk))
        if known is not None and known.get("superuser") != user.is_superuser:
            known = None  # the row changed without a save signal (a queryset update)
        if known is None:
            pref = UserPreference.objects.filter(user_id=user.pk).only("time_zone").first()
            known = {
                "perms": frozenset(ModelBackend().get_all_permissions(user)),
                "tz": pref.time_zone if pref else "",
                "superuser": user.is_superuser,
            }
            cache.set(_key(user.pk), known, settings.VIEWER_CACHE_SECONDS)
        user._viewer_facts = known
    return known


def forget(*user_pks: int) -> None:
    """Drop these users' cached facts now, and again when the change is committed.

    The second drop stops a request that read the old rows before the commit from
    keeping its copy for VIEWER_CACHE_SECONDS.
    """
    keys = [_key(pk) for pk in user_pks]
    if keys:
        cache.delete_many(keys)
        transaction.on_commit(lambda: cache.delete_many(keys))


class ViewerBackend(ModelBackend):
    """Django's model backend, with permissions read through `facts`."""

    def get_user(self, user_id: Any) -> Any:
        """Return the session's user, read from the database (with its session epoch)."""
        pk = whole_number(user_id, 1)
        if pk is None:
            return None
        user = User._default_manager.select_related("session_epoch").filter(pk=pk).first()
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        return set(facts(user_obj)["perms"])


User = get_user_model()


@receiver(m2m_changed, sender=User.groups.through)
@receiver(m2m_changed, sender=User.user_permissions.through)
def _membership_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    if not action.startswith("post_"):
        return
    if isinstance(instance, User):
        forget(instance.pk)
    elif pk_set:  # changed from the group's (or permission's) side
        forget(*pk_set)
    else:  # cleared from the other side: forget everyone who might be affected
        forget(*User.objects.values_list("pk", flat=True))


@receiver(m2m_changed, sender=Group.permissions.through)
def _group_permissions_changed(sender, instance, action, **kwargs) -> None:
    if action.startswith("post_") and isinstance(instance, Group):
        forget(*instance.user_set.values_list("pk", flat=True))


@receiver(pre_delete, sender=Group)
def _group_deleted(sender, instance, **kwargs) -> None:
    forget(*instance.user_set.values_list("pk", flat=True))


@receiver(post_save, sender=User)
@receiver(post_delete, sender=User)
def _user_saved(sender, instance, **kwargs) -> None:
    forget(instance.pk)


@receiver(post_save, sender=UserPreference)
@receiver(post_delete, sender=UserPreference)
def _preference_changed(sender, instance, **kwargs) -> None:
    forget(instance.user_id)
