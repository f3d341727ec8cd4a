"""Admin: users and grants managed only below oneself, orgs with write-only secrets, the trail."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group, Permission
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from lookup import access, roles
from lookup.models import AuditRecord, Org, OrgAccess

User = get_user_model()
# What a user may never change on their own record, superusers included.
OWN_PRIVILEGES = ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")


def manageable_users(request: HttpRequest) -> QuerySet:
    """Return the users the signed-in admin may see and change.

    A superuser manages everyone. Anyone else manages only users below them: no
    superuser, and no one holding a permission (directly or through a group) that the
    admin lacks, so changing such a user's password could not lift the admin higher.
    """
    if request.user.is_superuser:
        return User.objects.all()
    mine = Permission.objects.filter(Q(user=request.user) | Q(group__user=request.user))
    beyond = Permission.objects.exclude(pk__in=mine.values("pk"))
    return (
        User.objects.filter(is_superuser=False)
        .exclude(user_permissions__in=beyond)
        .exclude(groups__permissions__in=beyond)
    )


def visible_orgs(request: HttpRequest) -> QuerySet:
    """Return the orgs the signed-in admin may see, and so grant: its own (all for a superuser)."""
    if request.user.is_superuser:
        return Org.objects.all()
    return Org.objects.filter(pk__in=[org.pk for org in access.orgs_for(request.user)])


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's user admin, bounded: an Admin-role user manages only the users below it.

    To a non-superuser, superusers are neither listed nor reachable (their change and
    password forms answer as if they did not exist), `is_superuser` and
    `user_permissions` are read-only, and only the four role groups can be given or
    taken; other groups a user is in stay as they are. No one changes their own
    privileges (active, staff, superuser, groups, permissions).
    """

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(pk__in=manageable_users(request).values("pk"))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += ["is_superuser", "user_permissions"]
        if obj is not None and obj.pk == request.user.pk:
            fields += OWN_PRIVILEGES
        return list(dict.fromkeys(fields))

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "groups" and not request.user.is_superuser:
            kwargs["queryset"] = Group.objects.filter(name__in=roles.ROLES)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if "groups" in form.cleaned_data and not request.user.is_superuser:
            # The form offered only the roles: keep the other groups the user is in.
            others = form.instance.groups.exclude(name__in=roles.ROLES) if change else []
            form.cleaned_data["groups"] = [*form.cleaned_data["groups"], *others]
        super().save_related(request, form, formsets, change)


class OrgForm(forms.ModelForm):
    """Secrets can be set or replaced here, never read back."""

    new_till_password = forms.CharField(
        label="Till password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only. Leave blank to keep the stored password.",
    )
    new_oauth_secret = forms.CharField(
        label="OAuth client secret",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only. Leave blank to keep the stored secret.",
    )

    class Meta:
        model = Org
        fields = "__all__"

    def save(self, commit: bool = True) -> Org:
        org = super().save(commit=False)
        if self.cleaned_data.get("new_till_password"):
            org.set_till_password(self.cleaned_data["new_till_password"])
        if self.cleaned_data.get("new_oauth_secret"):
            org.set_oauth_secret(self.cleaned_data["new_oauth_secret"])
        if commit:
            org.save()
        return org


class GrantForm(forms.ModelForm):
    """An org access grant; no one may grant themselves one."""

    granted_by: Any = None  # the signed-in admin, set per request by GrantBounds

    class Meta:
        model = OrgAccess
        fields = "__all__"

    def clean(self) -> dict:
        data = super().clean()
        user = data.get("user")
        if user is not None and self.granted_by is not None and user.pk == self.granted_by.pk:
            self.add_error("user", "No one grants themselves access: ask another admin.")
        return data


class GrantBounds:
    """Grant forms that offer only the orgs the admin may see and the users below it."""

    form = GrantForm

    def _form(self, request: HttpRequest) -> type[GrantForm]:
        return type("GrantForm", (self.form,), {"granted_by": request.user})

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "user":
            kwargs["queryset"] = manageable_users(request).order_by("username")
        elif db_field.name == "org":
            kwargs["queryset"] = visible_orgs(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(org__in=visible_orgs(request), user__in=manageable_users(request))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if isinstance(obj, OrgAccess) and obj.user_id == request.user.pk:
            return False  # one's own grant is changed by another admin
        return super().has_change_permission(request, obj)


class OrgAccessInline(GrantBounds, admin.TabularInline):
    model = OrgAccess
    extra = 0
    autocomplete_fields = ["user"]

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        return super().get_formset(request, obj, form=self._form(request), **kwargs)


@admin.register(Org)
class OrgAdmin(admin.ModelAdmin):
    form = OrgForm
    list_display = [
        "name",
        "slug",
        "base_url",
        "auth_mode",
        "default_source",
        "secret_set",
        "is_active",
    ]
    list_filter = ["auth_mode", "is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [OrgAccessInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "is_active", "base_url", "time_zone"]}),
        (
            "Credentials",
            {
                "fields": [
                    "auth_mode",
                    "till_username",
                    "new_till_password",
                    "oauth_key",
                    "new_oauth_secret",
                ]
            },
        ),
        ("Defaults", {"fields": ["default_source", "default_account_id", "default_country"]}),
        ("Search", {"fields": ["search_every_source", "name_search"]}),
        ("Timeouts (seconds)", {"fields": ["connect_timeout", "read_timeout", "deadline"]}),
        ("Quota", {"fields": ["calls_per_minute"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).filter(pk__in=visible_orgs(request).values("pk"))

    @admin.display(boolean=True, description="secret stored")
    def secret_set(self, org: Org) -> bool:
        return org.has_credentials


@admin.register(OrgAccess)
class OrgAccessAdmin(GrantBounds, admin.ModelAdmin):
    list_display = ["user", "org", "sources", "store_codes"]
    list_filter = ["org"]
    search_fields = ["user__username", "org__name"]
    autocomplete_fields = ["user"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        return super().get_form(request, obj, change, form=self._form(request), **kwargs)


# --- Audit trail: read-only, for everyone, superusers included. ---------------


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin):
    list_display = [
        "at",
        "username",
        "org_slug",
        "requested_org",
        "customer_id",
        "source",
        "action",
        "outcome",
        "cache_hit",
    ]
    list_filter = ["action", "outcome", "org_slug"]
    search_fields = ["username", "=customer_id", "request_id"]
    date_hierarchy = "at"
    show_full_result_count = False  # a count over millions of rows on every page is slow

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        """Return the records of the orgs the admin may see, as /audit/ does."""
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(org_id__in=visible_orgs(request).values("pk"))

    def has_add_permission(self, request) -> bool:  # noqa: ANN001
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False
