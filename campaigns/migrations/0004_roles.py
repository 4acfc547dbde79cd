"""Create the operator, marketer and viewer groups with their permissions."""
from django.contrib.auth.management import create_permissions
from django.db import migrations


def create_roles(apps, schema_editor):
    from campaigns.roles import ROLE_PERMISSIONS, codename

    config = apps.get_app_config("campaigns")
    config.models_module = True  # let create_permissions run inside a migration
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, models in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = [codename(action, model) for model, actions in models.items() for action in actions]
        group.permissions.set(Permission.objects.filter(content_type__app_label="campaigns", codename__in=wanted))


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("campaigns", "0003_send_permission"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
