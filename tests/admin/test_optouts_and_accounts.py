"""Opt-outs (add, remove, import, export) and what each role sees of accounts."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns.models import Message, OptOut
from campaigns.services.optouts import add_optout, import_optouts_csv, remove_optout
from tests.factories import AccountFactory, CampaignFactory, MessageFactory

pytestmark = pytest.mark.django_db


def test_adding_an_optout_suppresses_pending_messages(marketer_client) -> None:
    campaign = CampaignFactory()
    pending = MessageFactory(campaign=campaign, phone="+447911100001", status="pending")
    sent = MessageFactory(campaign=campaign, phone="+447911100002", status="delivered")
    data = {"phone": "+44 7911 100001", "source": "manual", "note": "asked by phone"}
    response = marketer_client.post(reverse("admin:campaigns_optout_add"), data)
    assert response.status_code == 302
    assert OptOut.objects.get().phone == "+447911100001"
    pending.refresh_from_db()
    sent.refresh_from_db()
    assert (pending.status, pending.reason, sent.status) == ("suppressed", "opted out", "delivered")


def test_add_is_idempotent_and_remove_allows_the_number_again() -> None:
    account = AccountFactory()
    first, created = add_optout(phone="+447911100001", account=account)
    again, created_again = add_optout(phone="+447911100001", account=account)
    assert created and not created_again and first.pk == again.pk
    remove_optout(optout=first)
    assert not OptOut.objects.exists()


def test_import_with_and_without_header_and_bad_rows() -> None:
    data = b"Name,Mobile\nAnn,+447911100001\nBob,nope\nCy,+447911100001\nDi,+447911100002\n"
    result = import_optouts_csv(stream=io.BytesIO(data), note="crm")
    assert (result.rows, result.added, result.already, result.rejected) == (4, 2, 1, 1)
    assert result.rejected_rows[0][0] == 3
    bare = import_optouts_csv(stream=io.BytesIO(b"+447911100003\n+447911100002\n"))
    assert (bare.added, bare.already) == (1, 1)
    assert OptOut.objects.filter(source="import").count() == 3


def test_admin_import_and_streamed_export(marketer_client) -> None:
    upload = SimpleUploadedFile("stop.csv", b"phone\n+447911100001\n+447911100002\n", content_type="text/csv")
    data = {"file": upload, "account": "", "note": "x"}
    response = marketer_client.post(reverse("admin:campaigns_optout_import"), data)
    assert response.status_code == 302
    assert OptOut.objects.count() == 2
    page = marketer_client.get(reverse("admin:campaigns_optout_changelist")).content.decode()
    assert "Import CSV" in page and "Export CSV" in page
    export = marketer_client.get(reverse("admin:campaigns_optout_export"))
    lines = b"".join(export.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0] == "phone,account,source,note,created_at"
    assert sorted(line.split(",")[0] for line in lines[1:]) == ["+447911100001", "+447911100002"]


def test_viewer_has_no_optouts(viewer_client) -> None:
    assert viewer_client.get(reverse("admin:campaigns_optout_changelist")).status_code == 403
    assert viewer_client.get(reverse("admin:campaigns_optout_export")).status_code == 403


def test_marketer_sees_an_account_by_name_only(marketer_client, operator_client) -> None:
    account = AccountFactory(
        name="Localmail UK",
        system_id="lm-sys",
        smpp_password="s3cretpw",
        mm4_api_key="k3y",
        smpp_host="smpp.example.net",
    )
    url = reverse("admin:campaigns_account_change", args=[account.pk])
    page = marketer_client.get(url).content.decode()
    assert "Localmail UK" in page
    for hidden in ("s3cretpw", "k3y", "smpp.example.net", "field-system_id", "MMS (MM4)"):
        assert hidden not in page
    listing = marketer_client.get(reverse("admin:campaigns_account_changelist")).content.decode()
    assert "Localmail UK" in listing and "lm-sys" not in listing
    operator_page = operator_client.get(url).content.decode()
    assert "lm-sys" in operator_page and "s3cretpw" not in operator_page and "currently set" in operator_page


def test_message_admin_filters_by_campaign(operator_client) -> None:
    message = MessageFactory(status="delivered")
    query = f"?campaign__id__exact={message.campaign_id}&status__exact=delivered"
    url = reverse("admin:campaigns_message_changelist") + query
    assert operator_client.get(url).status_code == 200
    assert Message.objects.count() == 1
