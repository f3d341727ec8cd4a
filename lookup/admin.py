"""Admin: orgs with write-only secrets, and access grants."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from lookup.models import AuditRecord, Org, OrgAccess


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


class OrgAccessInline(admin.TabularInline):
    model = OrgAccess
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Org)
class OrgAdmin(admin.ModelAdmin):
    form = OrgForm
    list_display = ["name", "slug", "base_url", "auth_mode", "default_source", "secret_set", "is_active"]
    list_filter = ["auth_mode", "is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [OrgAccessInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "is_active", "base_url", "time_zone"]}),
        (
            "Credentials",
            {"fields": ["auth_mode", "till_username", "new_till_password", "oauth_key", "new_oauth_secret"]},
        ),
        ("Defaults", {"fields": ["default_source", "default_account_id"]}),
        ("Timeouts (seconds)", {"fields": ["connect_timeout", "read_timeout", "deadline"]}),
        ("Quota", {"fields": ["calls_per_minute"]}),
    ]

    @admin.display(boolean=True, description="secret stored")
    def secret_set(self, org: Org) -> bool:
        return org.has_credentials


@admin.register(OrgAccess)
class OrgAccessAdmin(admin.ModelAdmin):
    list_display = ["user", "org", "sources"]
    list_filter = ["org"]
    search_fields = ["user__username", "org__name"]
    autocomplete_fields = ["user"]


# --- Audit trail (issue 5): read-only, for everyone, superusers included. ---------------


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

    def has_add_permission(self, request) -> bool:  # noqa: ANN001
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False
