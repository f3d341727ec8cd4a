"""Session epochs: deactivation or a change of groups or permissions ends sessions."""

from __future__ import annotations

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("lookup", "0006_audit_keeps_who_and_org"),
    ]

    operations = [
        migrations.CreateModel(
            name="SessionEpoch",
            fields=[
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="session_epoch",
                        serialize=False,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                ("value", models.PositiveIntegerField(default=0)),
            ],
        ),
    ]
