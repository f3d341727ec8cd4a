"""Create the role groups with their permissions (see lookup/roles.py)."""

from __future__ import annotations

from django.contrib.auth.management import create_permissions
from django.db import migrations

# A frozen copy of lookup.roles.ROLES as of this migration.
ROLES = {
    "Store manager": [],
    "Call-centre agent": ["lookup.reveal_pii"],
    "Loyalty ops": [
        "lookup.view_pii",
        "lookup.view_raw_response",
        "lookup.view_auditrecord",
        "lookup.export_auditrecord",
    ],
    "Admin": [
        "lookup.view_pii",
        "lookup.view_raw_response",
        "lookup.view_auditrecord",
        "lookup.export_auditrecord",
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


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(wanted)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("lookup", "0002_auditrecord"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
