"""Stored Capillary orgs, and who may look them up."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils import timezone

from lookup import crypto

SOURCE_CHOICES = [(s, s) for s in ("INSTORE", "MARTJACK", "WECHAT", "LINE", "ALL")]


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            f"{value!r} is not a known time zone (try Europe/London or Asia/Kolkata)."
        )


def validate_country(value: str) -> None:
    from lookup.search.phones import valid_region

    if not valid_region(value):
        raise ValidationError(f"{value!r} is not a country code (try IN, GB or SG).")


def validate_base_url(value: str) -> None:
    URLValidator(schemes=["http", "https"])(value)
    if "?" in value or "#" in value:
        raise ValidationError("The cluster URL takes no query string or fragment.")


class Org(models.Model):
    """A Capillary org: where its API lives and the credentials that call it."""

    class AuthMode(models.TextChoices):
        BASIC = "basic", "Basic (till username and password)"
        OAUTH = "oauth", "OAuth (client key and secret)"

    name = models.CharField("display name", max_length=120)
    slug = models.SlugField(unique=True, max_length=60)
    base_url = models.CharField(
        "cluster base URL",
        max_length=200,
        validators=[validate_base_url],
        help_text="For example https://eu.api.capillarytech.com",
    )
    auth_mode = models.CharField(max_length=10, choices=AuthMode.choices, default=AuthMode.BASIC)
    till_username = models.CharField(max_length=150, blank=True)
    till_password_encrypted = models.TextField(blank=True, editable=False)
    oauth_key = models.CharField("OAuth client key", max_length=200, blank=True)
    oauth_secret_encrypted = models.TextField(blank=True, editable=False)
    default_source = models.CharField(max_length=10, choices=SOURCE_CHOICES, default="INSTORE")
    default_account_id = models.CharField(max_length=64, blank=True)
    default_country = models.CharField(
        max_length=2,
        default="IN",
        validators=[validate_country],
        help_text="Country of mobile numbers typed without a country code (IN, GB, SG...).",
    )
    search_every_source = models.BooleanField(
        default=False,
        help_text="Search asks every source at once and merges the matches, instead of the "
        "default source only (one Capillary call per source).",
    )
    name_search = models.BooleanField(
        default=False,
        help_text="Suggest customers by name as the agent types (Capillary's customer search).",
    )
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    connect_timeout = models.FloatField(
        null=True, blank=True, help_text="Seconds; blank = default."
    )
    read_timeout = models.FloatField(null=True, blank=True, help_text="Seconds; blank = default.")
    deadline = models.FloatField(
        null=True, blank=True, help_text="Overall seconds per call; blank = default."
    )
    calls_per_minute = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Most calls to Capillary per minute for this org, shared by every worker "
        "(blank = CAPILLARY_CALLS_PER_MINUTE; 0 = no limit). Over it, pages serve cached copies.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "Capillary org"

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<Org {self.slug} {self.auth_mode} {self.base_url}>"

    def set_till_password(self, password: str) -> None:
        self.till_password_encrypted = crypto.encrypt(password) if password else ""

    def till_password(self) -> str:
        return crypto.decrypt(self.till_password_encrypted) if self.till_password_encrypted else ""

    def set_oauth_secret(self, secret: str) -> None:
        self.oauth_secret_encrypted = crypto.encrypt(secret) if secret else ""

    def oauth_secret(self) -> str:
        return crypto.decrypt(self.oauth_secret_encrypted) if self.oauth_secret_encrypted else ""

    @property
    def has_credentials(self) -> bool:
        if self.auth_mode == self.AuthMode.OAUTH:
            return bool(self.oauth_key and self.oauth_secret_encrypted)
        return bool(self.till_username and self.till_password_encrypted)

    def rotate_secrets(self) -> None:
        """Re-encrypt stored secrets under the newest key."""
        if self.till_password_encrypted:
            self.till_password_encrypted = crypto.rotate(self.till_password_encrypted)
        if self.oauth_secret_encrypted:
            self.oauth_secret_encrypted = crypto.rotate(self.oauth_secret_encrypted)

    def clean(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.default_country = self.default_country.strip().upper()


class OrgAccess(models.Model):
    """A grant: this user may look up customers of this org (optionally some sources only)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="org_grants"
    )
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="grants")
    sources = models.CharField(
        max_length=100,
        blank=True,
        help_text="Comma-separated sources this user may see (e.g. INSTORE,WECHAT); blank = all.",
    )

    store_codes = models.CharField(
        max_length=200,
        blank=True,
        help_text=(
            "Comma-separated store codes whose transactions this user sees in the Activity "
            "tab (store managers); blank = every store."
        ),
    )

    class Meta:
        unique_together = [("user", "org")]
        verbose_name = "org access grant"

    def __str__(self) -> str:
        return f"{self.user} → {self.org}"

    def allowed_sources(self) -> set[str] | None:
        """Return the sources granted, or None for all of them."""
        names = {s.strip().upper() for s in self.sources.split(",") if s.strip()}
        return names or None

    def allowed_store_codes(self) -> set[str] | None:
        """Return the store codes whose bills this grant shows, or None for every store."""
        codes = {s.strip().upper() for s in self.store_codes.split(",") if s.strip()}
        return codes or None


class UserPreference(models.Model):
    """A viewer's own settings; blank means "as the org has it"."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lookup_preference"
    )
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text="Dates are shown in this zone; blank = the org's time zone.",
    )
    last_org = models.ForeignKey(
        Org,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The org the user last searched in (the org switcher's choice).",
    )

    def __str__(self) -> str:
        return f"Preferences of {self.user}"


class RecentCustomer(models.Model):
    """A customer this user opened lately or pinned, with the name and tier as shown then.

    The last 20 unpinned ones per user are kept; pinned ones stay until unpinned.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recent_customers"
    )
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="+")
    customer_id = models.BigIntegerField()
    source = models.CharField(max_length=20)
    account_id = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=120, blank=True)
    tier = models.CharField(max_length=120, blank=True)
    pinned = models.BooleanField(default=False)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "org", "customer_id", "source", "account_id"],
                name="recent_customer_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.org_id} {self.customer_id}"


class SessionEpoch(models.Model):
    """How many times this user's sessions were ended (see lookup.sessions).

    A session remembers the count it began with and ends when the count moves on:
    deactivating the user or changing their groups or permissions moves it.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="session_epoch",
    )
    value = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"Session epoch {self.value} of {self.user_id}"


# --- Audit trail -------------------------------------------------------------------------


class AuditRecordQuerySet(models.QuerySet):
    def update(self, **kwargs):  # noqa: ANN003
        raise PermissionError("Audit records cannot be changed.")


class AuditRecord(models.Model):
    """One look at a customer (or an attempt): who, when, what, and what came of it.

    Holds no personal data of the customer beyond the ID. Records are written once
    and never changed; `manage.py prune_audit` deletes those past retention.
    """

    class Action(models.TextChoices):
        LOOKUP = "lookup", "Page view"
        SEARCH = "search", "Search"
        TAB = "tab", "Tab view"
        REFRESH = "refresh", "Refresh"
        REVEAL = "reveal", "Reveal"
        RAW = "raw", "Raw response"
        IMAGE = "image", "Image"
        EXPORT = "export", "Audit export"
        DENIED = "denied", "Denied access"

    class Outcome(models.TextChoices):
        OK = "ok", "OK"
        NOT_FOUND = "not_found", "Not found"
        DENIED = "denied", "Denied"
        UPSTREAM_ERROR = "upstream_error", "Upstream error"
        RATE_LIMITED = "rate_limited", "Rate limited"
        INVALID = "invalid", "Invalid input"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    # Who and which org as written, in plain columns rather than links: deleting a user or
    # an org leaves its records exactly as they were.
    user_id = models.IntegerField(null=True, blank=True, db_index=True)
    username = models.CharField(max_length=150, blank=True)
    org_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    org_slug = models.CharField(max_length=60, blank=True)
    requested_org = models.CharField(
        max_length=60,
        blank=True,
        help_text="The org a refused request asked for, when none has that slug.",
    )
    customer_id = models.BigIntegerField(null=True, blank=True)
    source = models.CharField(max_length=20, blank=True)
    action = models.CharField(max_length=12, choices=Action.choices)
    detail = models.CharField(
        max_length=120, blank=True, help_text="Tab, field path or why denied."
    )
    reason = models.CharField(max_length=200, blank=True, help_text="Reason given for a reveal.")
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.OK)
    cache_hit = models.BooleanField(null=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    objects = AuditRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        default_permissions = ("view",)
        permissions = [
            ("export_auditrecord", "Export the audit trail as CSV"),
            ("view_pii", "See customers' personal data unmasked"),
            ("reveal_pii", "Reveal a masked personal field (audited)"),
            ("reveal_pii_without_reason", "Reveal without giving a reason"),
            ("view_raw_response", "See the raw Capillary response"),
        ]
        indexes = [
            models.Index(fields=["customer_id", "-at"], name="audit_customer_at"),
            models.Index(fields=["username", "-at"], name="audit_user_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} {self.action} {self.customer_id}"

    def save(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        if not self._state.adding:
            raise PermissionError("Audit records cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # noqa: ANN002, ANN003
        raise PermissionError("Audit records are deleted only by manage.py prune_audit.")
