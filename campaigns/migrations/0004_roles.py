"""Create the operator, marketer and viewer groups with their permissions."""
from django.db import migrations


def create_roles(apps, schema_editor):
    from campaigns.roles import sync_roles

    sync_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("campaigns", "0003_send_permission"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
