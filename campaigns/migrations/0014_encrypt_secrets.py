"""Account secrets encrypted at rest (Fernet, SECRETS_KEYS): the columns become text (the
ciphertext is longer than the plaintext), then every stored value is encrypted in place.

Read and written with plain SQL: the historical model's field would try to decrypt the
plaintext rows it loads. Values already encrypted (a re-run) are left alone. Reversible:
backwards, each value is decrypted again before the columns go back to varchar.
"""

from django.db import migrations

import campaigns.fields
from campaigns.fields import decrypt, encrypt, is_encrypted

COLUMNS = ("smpp_password", "mm4_api_key", "mm4_inbound_password")


def _rewrite(apps, schema_editor, change) -> None:
    connection = schema_editor.connection
    quote = schema_editor.quote_name
    table = quote(apps.get_model("campaigns", "Account")._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {', '.join(quote(c) for c in COLUMNS)} FROM {table}")
        rows = cursor.fetchall()
        for pk, *values in rows:
            changed = {column: change(value) for column, value in zip(COLUMNS, values) if value}
            changed = {column: value for column, value in changed.items() if value is not None}
            if changed:
                assignments = ", ".join(f"{quote(column)} = %s" for column in changed)
                cursor.execute(f"UPDATE {table} SET {assignments} WHERE id = %s", [*changed.values(), pk])


def encrypt_rows(apps, schema_editor) -> None:
    _rewrite(apps, schema_editor, lambda value: None if is_encrypted(value) else encrypt(value))


def decrypt_rows(apps, schema_editor) -> None:
    _rewrite(apps, schema_editor, lambda value: decrypt(value, where="a stored account secret")
             if is_encrypted(value) else None)


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0013_mm4_inbound_credentials'),
    ]

    operations = [
        migrations.AlterField(
            model_name='account',
            name='mm4_api_key',
            field=campaigns.fields.EncryptedTextField(blank=True, help_text='The MM4 API key (SMTP password). Write-only: never shown again.', max_length=128),
        ),
        migrations.AlterField(
            model_name='account',
            name='mm4_inbound_password',
            field=campaigns.fields.EncryptedTextField(blank=True, help_text='The SMTP AUTH password for the user above. Write-only: never shown again.', max_length=128),
        ),
        migrations.AlterField(
            model_name='account',
            name='smpp_password',
            field=campaigns.fields.EncryptedTextField(blank=True, help_text='The SMPP password (at most 8 characters in SMPP 3.4). Write-only: never shown again.', max_length=8),
        ),
        migrations.RunPython(encrypt_rows, decrypt_rows, elidable=False),
    ]
