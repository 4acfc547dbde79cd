"""Secrets are write-only: typed in, used by workers, never rendered or logged."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from campaigns.models import Account
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

SMPP_PASSWORD = "s3cretpw"
API_KEY = "k3y-secret"


def _form_data(account: Account, **overrides: str) -> dict[str, str]:
    data = {
        "name": account.name,
        "active": "on",
        "system_id": account.system_id,
        "smpp_password": "",
        "system_type": "",
        "smpp_host": account.smpp_host,
        "smpp_port": str(account.smpp_port),
        "smpp_tls_ca_file": "",
        "bind_mode": account.bind_mode,
        "binds": str(account.binds),
        "rate_per_bind": str(account.rate_per_bind),
        "window": str(account.window),
        "source_addr": "",
        "source_addr_ton": "1",
        "source_addr_npi": "1",
        "message_id_format": "auto",
        "enquire_link_interval": "30",
        "smpp_stopped_reason": "",
        "mm4_host": "",
        "mm4_port": "2465",
        "mm4_api_key": "",
        "mm4_originator_domain": "",
        "mms_rate": "5",
        "mm4_stopped_reason": "",
        # The account page's table of prices per segment (an inline: its management form).
        "segment_prices-TOTAL_FORMS": "0",
        "segment_prices-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def test_change_page_never_renders_secrets(admin_client) -> None:
    account = AccountFactory(smpp_password=SMPP_PASSWORD, mm4_api_key=API_KEY)
    html = admin_client.get(reverse("admin:campaigns_account_change", args=[account.pk])).content.decode()
    assert SMPP_PASSWORD not in html
    assert API_KEY not in html
    assert "currently set" in html


def test_blank_secret_keeps_the_stored_one_and_new_one_replaces_it(admin_client) -> None:
    account = AccountFactory(smpp_password=SMPP_PASSWORD, mm4_api_key=API_KEY)
    url = reverse("admin:campaigns_account_change", args=[account.pk])
    response = admin_client.post(url, _form_data(account, name="Renamed"))
    assert response.status_code == 302, response.content.decode()[:2000]
    account.refresh_from_db()
    assert (account.name, account.smpp_password, account.mm4_api_key) == ("Renamed", SMPP_PASSWORD, API_KEY)

    response = admin_client.post(url, _form_data(account, smpp_password="newpass1"))
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.smpp_password == "newpass1"
    assert account.mm4_api_key == API_KEY
    for entry in LogEntry.objects.all():
        assert "newpass1" not in entry.change_message
        assert SMPP_PASSWORD not in entry.change_message


def test_invalid_submit_does_not_echo_the_typed_secret(admin_client) -> None:
    account = AccountFactory()
    url = reverse("admin:campaigns_account_change", args=[account.pk])
    response = admin_client.post(url, _form_data(account, smpp_password="typedsec", binds="0"))
    assert response.status_code == 200  # form error shown
    assert "typedsec" not in response.content.decode()


def test_repr_and_str_leave_secrets_out() -> None:
    account = AccountFactory(smpp_password=SMPP_PASSWORD, mm4_api_key=API_KEY)
    for text in (repr(account), str(account)):
        assert SMPP_PASSWORD not in text
        assert API_KEY not in text


def test_dumpdata_writes_ciphertext_and_loaddata_restores_the_secret(tmp_path) -> None:
    import json

    from django.core.management import call_command
    from django.core.serializers.base import DeserializationError

    account = AccountFactory(smpp_password="dumpme42", mm4_api_key="key-that-must-not-leak")
    dump = tmp_path / "accounts.json"
    call_command("dumpdata", "campaigns.account", output=str(dump))
    text = dump.read_text()
    assert "dumpme42" not in text and "key-that-must-not-leak" not in text
    [row] = [r for r in json.loads(text) if r["pk"] == account.pk]
    assert row["fields"]["smpp_password"].startswith("gAAAAA")  # a Fernet token
    Account.objects.filter(pk=account.pk).update(smpp_password="changed", mm4_api_key="")
    call_command("loaddata", str(dump), verbosity=0)
    account.refresh_from_db()
    assert (account.smpp_password, account.mm4_api_key) == ("dumpme42", "key-that-must-not-leak")
    row["fields"]["smpp_password"] = "gAAAAA" + "x" * 120  # another deployment's token
    dump.write_text(json.dumps([row]))
    with pytest.raises(DeserializationError, match="cannot be decrypted with any key in SECRETS_KEYS"):
        call_command("loaddata", str(dump), verbosity=0)
