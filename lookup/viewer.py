"""What a page needs to know about its viewer (permissions, grants, time zone), cached briefly.

Every customer page asks for the viewer's permissions (what to mask, which tabs), org and
source grants, and time zone. Read from the database they cost four queries a page; here
they are one cache read, kept for VIEWER_CACHE_SECONDS and dropped at once when a grant of
permissions, a group membership, an org grant, an org, the user or their preference
changes. Org and user rows themselves never go to the cache (they hold encrypted
credentials and password hashes): each process keeps its own copy of each, checked against
the stamp the cached facts carry for it, so a signed-in page needs no query to know who
is looking and what they may see.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver

from lookup.models import Org, OrgAccess, UserPreference


def _key(user_pk: int) -> str:
    return f"viewer:v2:{user_pk}"


# org pk -> (updated_at stamp, org): this process's copies of the orgs its viewers were granted.
_orgs: dict[int, tuple[float, Org]] = {}
_orgs_lock = threading.Lock()


def _grant_rows(user: Any) -> list[tuple[Org, tuple[str, ...] | None]]:
    """Return (org, sources granted or None for all) for the user's active orgs, by name."""
    if user.is_superuser:
        return [(org, None) for org in Org.objects.filter(is_active=True).order_by("name")]
    grants = (
        OrgAccess.objects.filter(user_id=user.pk, org__is_active=True)
        .select_related("org")
        .order_by("org__name")
    )
    rows = []
    for grant in grants:
        sources = grant.allowed_sources()
        rows.append((grant.org, None if sources is None else tuple(sorted(sources))))
    return rows


def _remember(orgs: list[Org]) -> None:
    with _orgs_lock:
        for org in orgs:
            _orgs[org.pk] = (org.updated_at.timestamp(), org)


# user pk -> (stamp, field names, values): this process's copies of its viewers' user rows.
_users: dict[int, tuple[str, tuple[str, ...], tuple[Any, ...]]] = {}


def _user_row(user: Any) -> tuple[tuple[str, ...], tuple[Any, ...]]:
    names = tuple(f.attname for f in user._meta.concrete_fields)
    return names, tuple(getattr(user, name) for name in names)


def user_stamp(user: Any) -> str:
    """Return a digest of every column of the user's row (password hash, is_active, ...)."""
    return hashlib.blake2b(repr(_user_row(user)).encode(), digest_size=12).hexdigest()


def facts(user: Any) -> dict[str, Any]:
    """Return {"perms": set of "app.codename", "tz": chosen zone or ""} for a signed-in user."""
    known = getattr(user, "_viewer_facts", None)
    if known is None:
        known = cache.get(_key(user.pk))
        if known is None:
            pref = UserPreference.objects.filter(user_id=user.pk).only("time_zone").first()
            rows = _grant_rows(user)
            _remember([org for org, _sources in rows])
            known = {
                "perms": frozenset(ModelBackend().get_all_permissions(user)),
                "tz": pref.time_zone if pref else "",
                "superuser": user.is_superuser,
                "user": user_stamp(user),
                "grants": [(org.pk, org.updated_at.timestamp(), sources) for org, sources in rows],
            }
            cache.set(_key(user.pk), known, settings.VIEWER_CACHE_SECONDS)
        user._viewer_facts = known
    return known


def grants(user: Any) -> list[tuple[Org, tuple[str, ...] | None]]:
    """Return (org, sources granted or None for all) for the user's active orgs, by name.

    Share the org objects read-only: other requests of this process use them too.
    """
    known = facts(user)
    if known.get("superuser") != user.is_superuser:
        forget(user.pk)
        user._viewer_facts = None
        known = facts(user)
    rows = []
    for pk, stamp, sources in known["grants"]:
        held = _orgs.get(pk)
        if held is None or held[0] != stamp:
            # Another process changed the org, or this one has not seen it yet.
            fresh = _grant_rows(user)
            _remember([org for org, _sources in fresh])
            return fresh
        rows.append((held[1], sources))
    return rows


def forget(*user_pks: int) -> None:
    cache.delete_many([_key(pk) for pk in user_pks])


class ViewerBackend(ModelBackend):
    """Django's model backend, reading a user's row and permissions through `facts`."""

    def get_user(self, user_id: Any) -> Any:
        """Return the session's user: this process's copy when the cached facts vouch for it.

        The copy is a new instance each time (requests annotate it); any save of the user
        drops the facts (see the receivers below), so the next request reads the row.
        """
        try:
            pk = int(user_id)
        except (TypeError, ValueError):
            return None
        known = cache.get(_key(pk))
        held = _users.get(pk)
        if known is not None and held is not None and held[0] == known.get("user"):
            user = User.from_db(None, held[1], held[2])
            user._viewer_facts = known
            return user if self.user_can_authenticate(user) else None
        user = super().get_user(pk)
        if user is not None:
            stamp = user_stamp(user)
            _users[pk] = (stamp, *_user_row(user))
            if known is not None and known.get("user") != stamp:
                forget(pk)  # built from an older row (changed without a save signal)
        return user

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


@receiver(post_save, sender=OrgAccess)
@receiver(post_delete, sender=OrgAccess)
def _grant_changed(sender, instance, **kwargs) -> None:
    forget(instance.user_id)


@receiver(post_save, sender=Org)
@receiver(post_delete, sender=Org)
def _org_changed(sender, instance, **kwargs) -> None:
    # Whoever was granted the org, and every superuser (who sees every org), and anyone
    # who may be granted it next: an org changes rarely, so everyone's facts go.
    forget(*User.objects.values_list("pk", flat=True))


@receiver(post_save, sender=UserPreference)
@receiver(post_delete, sender=UserPreference)
def _preference_changed(sender, instance, **kwargs) -> None:
    forget(instance.user_id)
