"""Audit records keep the user and org IDs as written: plain columns, no longer links.

The columns stay where they are with their values; only the foreign keys go, so
deleting a user or an org no longer sets them to NULL. Adds `requested_org`.
"""

from __future__ import annotations

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("lookup", "0005_org_calls_per_minute"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # First the databases drop the constraints (the columns and their indexes stay)...
        migrations.AlterField(
            model_name="auditrecord",
            name="user",
            field=models.ForeignKey(
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="auditrecord",
            name="org",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="lookup.org",
            ),
        ),
        # ...then the model calls the same columns plain numbers, with no database change.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="auditrecord", name="user"),
                migrations.AddField(
                    model_name="auditrecord",
                    name="user_id",
                    field=models.IntegerField(blank=True, db_index=True, null=True),
                ),
                migrations.RemoveField(model_name="auditrecord", name="org"),
                migrations.AddField(
                    model_name="auditrecord",
                    name="org_id",
                    field=models.BigIntegerField(blank=True, db_index=True, null=True),
                ),
            ],
        ),
        migrations.AddField(
            model_name="auditrecord",
            name="requested_org",
            field=models.CharField(
                blank=True,
                help_text="The org a refused request asked for, when none has that slug.",
                max_length=60,
            ),
        ),
    ]
