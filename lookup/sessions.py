"""Ending a user's sessions everywhere when their account changes under them.

A password change ends the user's other sessions through Django's own session hash
(the user row is read on every request, see lookup.viewer). Deactivation, and a change
of groups or direct permissions, move the user's session epoch (a row in the database);
each session remembers the epoch it began with and is signed out on its next request,
on any server, once the epoch has moved on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model, logout, user_logged_in
from django.contrib.auth.models import Group
from django.db.models import F
from django.db.models.signals import m2m_changed, post_save, pre_delete
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

from lookup.models import SessionEpoch

EPOCH_KEY = "_lookup_session_epoch"
User = get_user_model()


def epoch_of(user_pk: int) -> int:
    """Return the user's session epoch as the database holds it now."""
    return SessionEpoch.objects.filter(user_id=user_pk).values_list("value", flat=True).first() or 0


def _loaded_epoch(user: Any) -> int:
    """Return the epoch loaded with the user (lookup.viewer reads it with the user row)."""
    try:
        return user.session_epoch.value
    except SessionEpoch.DoesNotExist:
        return 0


def end_sessions(*user_pks: int) -> None:
    """End every session of these users, on every server, from its next request."""
    for pk in sorted(set(user_pks)):
        if not SessionEpoch.objects.filter(user_id=pk).update(value=F("value") + 1):
            _epoch, created = SessionEpoch.objects.get_or_create(user_id=pk, defaults={"value": 1})
            if not created:  # made meanwhile by another request
                SessionEpoch.objects.filter(user_id=pk).update(value=F("value") + 1)


@receiver(user_logged_in)
def _remember_epoch(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    request.session[EPOCH_KEY] = epoch_of(user.pk)


@receiver(m2m_changed, sender=User.groups.through)
@receiver(m2m_changed, sender=User.user_permissions.through)
def _access_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    if action in ("post_add", "post_remove") and pk_set:
        # pk_set holds what was really added or removed: a no-op changes nothing.
        if reverse:  # from the group's (or permission's) side: these users
            end_sessions(*pk_set)
        else:
            end_sessions(instance.pk)
    elif action == "post_clear" and not reverse:
        end_sessions(instance.pk)
    elif action == "pre_clear" and reverse:  # cleared from the group's side: its members
        end_sessions(*instance.user_set.values_list("pk", flat=True))


@receiver(pre_delete, sender=Group)
def _group_deleted(sender, instance, **kwargs) -> None:
    end_sessions(*instance.user_set.values_list("pk", flat=True))


@receiver(post_save, sender=User)
def _user_saved(sender, instance, **kwargs) -> None:
    if not instance.is_active:
        end_sessions(instance.pk)


class SessionEpochMiddleware:
    """Sign out a session whose user's sessions were ended since it began."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and request.session.get(EPOCH_KEY, 0) != _loaded_epoch(user):
            logout(request)
        return self.get_response(request)
