"""API tokens hashed at rest: django-rest-knox's model (ours, ``ApiToken``) replaces DRF's
``authtoken.Token``, which kept every token in clear.

Existing DRF tokens keep working: a DRF key is 40 hex characters, and knox finds a token by
its first 15 characters and checks the SHA-512 digest of the whole, so each key is hashed
into that form here, with no expiry (as it had none), and the clear copy is deleted from
DRF's table (the table itself stays, empty, so its migration history stays true). Nobody
needs a new token. Backwards, the hashed tokens cannot be turned back into keys: they are
dropped with the table, and tokens must be issued again (manage.py create_api_token).
"""

import hashlib

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


DRF_TABLE = "authtoken_token"
TOKEN_KEY_LENGTH = 15  # knox.settings.CONSTANTS.TOKEN_KEY_LENGTH


def hash_drf_tokens(apps, schema_editor) -> None:
    connection = schema_editor.connection
    if DRF_TABLE not in connection.introspection.table_names():
        return  # a database made after DRF's tokens were gone
    table = schema_editor.quote_name(DRF_TABLE)
    api_token = apps.get_model("campaigns", "ApiToken")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id, created FROM {table}")
        for key, user_id, created in cursor.fetchall():
            digest = hashlib.sha512(key.encode()).hexdigest()  # knox.crypto.hash_token with knox's default
            made = api_token(user_id=user_id, digest=digest, token_key=key[:TOKEN_KEY_LENGTH], label="from DRF")
            made.save()  # (knox's manager's create() makes a new secret: not wanted here)
            api_token.objects.filter(pk=made.pk).update(created=created)  # created is auto_now_add
        cursor.execute(f"DELETE FROM {table}")


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0014_encrypt_secrets'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ApiToken',
            fields=[
                ('token_key', models.CharField(db_index=True, max_length=25)),
                ('created', models.DateTimeField(auto_now_add=True)),
                ('expiry', models.DateTimeField(blank=True, null=True)),
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('digest', models.CharField(max_length=128, unique=True)),
                ('label', models.CharField(blank=True, help_text="What the token is for, e.g. 'CRM sync'. Shown in the admin.", max_length=100)),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='auth_token_set', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'API token',
                'ordering': ['-created'],
            },
        ),
        migrations.RunPython(hash_drf_tokens, migrations.RunPython.noop, elidable=False),
    ]
