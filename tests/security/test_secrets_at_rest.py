"""Account secrets are encrypted in the database (Fernet, keys from SECRETS_KEYS).

Before the fix, ``SELECT smpp_password FROM campaigns_account`` returned the SMPP password
as it was typed, and so did any backup or dump. Now every field in ``Account.SECRET_FIELDS``
holds a Fernet token there, the code still sees the plaintext, a key can be rotated, and a
missing key says what to do.
"""

from __future__ import annotations

import importlib
import io

import pytest
from cryptography.fernet import Fernet
from django.apps import apps as django_apps
from django.conf import settings
from django.core.exceptions import FieldError, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings

from campaigns.fields import SecretDecryptionError
from campaigns.models import Account
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

PLAIN = {"smpp_password": "pw8chars", "mm4_api_key": "mm4-api-key-1234", "mm4_inbound_password": "inbound-pass-99"}
OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def raw(account: Account) -> dict[str, str]:
    """The secret columns as the database holds them (plain SQL, no field conversion)."""
    columns = ", ".join(connection.ops.quote_name(name) for name in Account.SECRET_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {Account._meta.db_table} WHERE id = %s", [account.pk])
        return dict(zip(Account.SECRET_FIELDS, cursor.fetchone(), strict=True))


def test_no_secret_column_holds_its_plaintext() -> None:
    assert set(PLAIN) == set(Account.SECRET_FIELDS)  # a new secret field gets a value here
    account = AccountFactory(**PLAIN)
    stored = raw(account)
    for name, plaintext in PLAIN.items():
        assert plaintext not in stored[name] and stored[name].startswith("gAAAAA"), name  # a Fernet token
        assert Fernet(settings.SECRETS_KEYS[0]).decrypt(stored[name].encode()).decode() == plaintext
    loaded = Account.objects.get(pk=account.pk)
    assert {name: getattr(loaded, name) for name in PLAIN} == PLAIN  # the round trip


def test_every_write_path_encrypts_and_empty_stays_empty() -> None:
    account = AccountFactory(smpp_password="", mm4_api_key="", mm4_inbound_password="")
    assert raw(account) == dict.fromkeys(Account.SECRET_FIELDS, "")  # "not set" is still ""
    Account.objects.filter(pk=account.pk).update(smpp_password="upd8te")
    account.mm4_api_key = "bulk-updated"
    Account.objects.bulk_update([account], ["mm4_api_key"])
    stored = raw(account)
    assert "upd8te" not in stored["smpp_password"] and "bulk-updated" not in stored["mm4_api_key"]
    loaded = Account.objects.get(pk=account.pk)
    assert (loaded.smpp_password, loaded.mm4_api_key) == ("upd8te", "bulk-updated")
    assert list(Account.objects.filter(mm4_inbound_password="")) == [loaded]  # "is it set?" still works


def test_the_same_password_is_never_stored_twice_alike_and_cannot_be_queried() -> None:
    first, second = AccountFactory(smpp_password="same1234"), AccountFactory(smpp_password="same1234")
    assert raw(first)["smpp_password"] != raw(second)["smpp_password"]
    with pytest.raises(FieldError, match="smpp_password is encrypted: it can only be compared with ''"):
        list(Account.objects.filter(smpp_password="same1234"))
    with pytest.raises(FieldError):
        list(Account.objects.filter(smpp_password__startswith="s"))


def test_the_smpp_password_is_still_at_most_8_characters() -> None:
    account = AccountFactory.build(smpp_password="ninechars")
    with pytest.raises(ValidationError) as caught:
        account.full_clean()
    assert "smpp_password" in caught.value.message_dict
    with pytest.raises(ValueError, match="Account.smpp_password holds at most 8 characters, not 9"):
        account.save()


def test_rotation_re_encrypts_every_secret_under_the_first_key() -> None:
    with override_settings(SECRETS_KEYS=[OLD]):
        account = AccountFactory(**PLAIN)
        AccountFactory(smpp_password="", mm4_api_key="", mm4_inbound_password="")
    before = raw(account)
    with override_settings(SECRETS_KEYS=[NEW, OLD]):
        assert Account.objects.get(pk=account.pk).mm4_api_key == PLAIN["mm4_api_key"]  # the old key still opens
        call_command("rotate_secrets_key", stdout=(out := io.StringIO()))
    assert "campaigns.Account: 3 secrets in 1 rows re-encrypted" in out.getvalue()
    after = raw(account)
    for name in PLAIN:
        assert after[name] != before[name]
        assert Fernet(NEW).decrypt(after[name].encode()).decode() == PLAIN[name]
    with override_settings(SECRETS_KEYS=[NEW]):  # the old key can go now
        loaded = Account.objects.get(pk=account.pk)
        assert {name: getattr(loaded, name) for name in PLAIN} == PLAIN


def test_a_wrong_key_is_a_clear_error() -> None:
    with override_settings(SECRETS_KEYS=[OLD]):
        account = AccountFactory(**PLAIN)
    with override_settings(SECRETS_KEYS=[NEW]):
        with pytest.raises(SecretDecryptionError) as caught:
            Account.objects.get(pk=account.pk)
        assert str(caught.value).startswith(
            "Account.smpp_password cannot be decrypted with any key in SECRETS_KEYS (1 given): the key that "
            "encrypted it is missing"
        )
        with pytest.raises(CommandError, match="cannot be decrypted with any key in SECRETS_KEYS"):
            call_command("rotate_secrets_key", stdout=io.StringIO())
    with override_settings(SECRETS_KEYS=[OLD]):
        assert Account.objects.get(pk=account.pk).smpp_password == PLAIN["smpp_password"]  # nothing was rewritten


def test_migration_0014_encrypts_existing_rows_and_reverses() -> None:
    migration = importlib.import_module("campaigns.migrations.0014_encrypt_secrets")
    account = AccountFactory(**PLAIN)
    assignments = ", ".join(f"{connection.ops.quote_name(name)} = %s" for name in PLAIN)
    with connection.cursor() as cursor:  # the row as it was before: plaintext
        cursor.execute(
            f"UPDATE {Account._meta.db_table} SET {assignments} WHERE id = %s", [*PLAIN.values(), account.pk]
        )
    with connection.schema_editor() as editor:
        migration.encrypt_rows(django_apps, editor)
    encrypted = raw(account)
    assert all(PLAIN[name] not in encrypted[name] for name in PLAIN)
    loaded = Account.objects.get(pk=account.pk)
    assert {name: getattr(loaded, name) for name in PLAIN} == PLAIN
    with connection.schema_editor() as editor:
        migration.encrypt_rows(django_apps, editor)  # a second run leaves encrypted values alone
    assert raw(account) == encrypted
    with connection.schema_editor() as editor:
        migration.decrypt_rows(django_apps, editor)
    assert raw(account) == PLAIN


def test_the_admin_form_refuses_a_long_smpp_password() -> None:
    from campaigns.forms import AccountForm

    account = AccountFactory()
    data = {**{f.name: f.value_from_object(account) for f in Account._meta.fields}, "smpp_password": "ninechars"}
    form = AccountForm(data=data, instance=account)
    assert not form.is_valid()
    assert form.errors["smpp_password"] == ["Ensure this value has at most 8 characters (it has 9)."]


def test_a_webhook_signing_secret_is_encrypted_at_rest() -> None:
    from campaigns.models import WebhookEndpoint

    assert WebhookEndpoint.SECRET_FIELDS == ("secret",)
    endpoint = WebhookEndpoint.objects.create(url="https://hooks.example.com/in", secret="whsec_plain_1234")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT secret FROM {WebhookEndpoint._meta.db_table} WHERE id = %s", [endpoint.pk])
        (stored,) = cursor.fetchone()
    assert "whsec_plain_1234" not in stored and stored.startswith("gAAAAA")
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).secret == "whsec_plain_1234"
    with pytest.raises(FieldError):
        list(WebhookEndpoint.objects.filter(secret__startswith="w"))
