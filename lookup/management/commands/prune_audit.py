"""Delete audit records older than the retention period (AUDIT_RETENTION_DAYS, default 400)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from lookup.models import AuditRecord


class Command(BaseCommand):
    help = "Delete audit records older than AUDIT_RETENTION_DAYS (default 400); run it daily."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=None, help="Override the retention.")
        parser.add_argument("--dry-run", action="store_true", help="Count, do not delete.")
        parser.add_argument("--batch", type=int, default=10_000, help="Rows per DELETE.")

    def handle(self, *args, days: int | None, dry_run: bool, batch: int, **options) -> None:
        days = settings.AUDIT_RETENTION_DAYS if days is None else days
        if days < 1:
            self.stderr.write("--days must be at least 1.")
            raise SystemExit(2)
        cutoff = timezone.now() - dt.timedelta(days=days)
        old = AuditRecord.objects.filter(at__lt=cutoff)
        if dry_run:
            self.stdout.write(
                f"{old.count()} records older than {days} days (before {cutoff:%Y-%m-%d})."
            )
            return
        deleted = 0
        # In batches, so a first prune of millions of rows does not hold one huge transaction.
        while ids := list(old.values_list("pk", flat=True)[:batch]):
            # QuerySet.delete never calls the model's delete(), which refuses single deletions.
            deleted += AuditRecord.objects.filter(pk__in=ids).delete()[0]
        self.stdout.write(f"Deleted {deleted} audit records older than {days} days.")
