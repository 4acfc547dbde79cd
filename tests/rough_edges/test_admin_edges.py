"""The admin's rough edges (issue 17): landing page, internals for operators, no "View site",
labels, read-only records, single sends apart, roles make staff, bind health in words."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.models import CampaignStatus, Message
from campaigns.roles import MARKETER, sync_roles
from campaigns.statuses import MessageStatus as S
from config.log_filters import NoTracebackForClientErrors, QuietTick
from smpp_transport.models import BindStatus
from tests.factories import AccountFactory, CampaignFactory, MessageFactory, MessagePartFactory

pytestmark = pytest.mark.django_db


def test_landing_page_shows_sending_scheduled_volume_and_failures(marketer_client) -> None:
    running = CampaignFactory(name="Spring sale", status=CampaignStatus.RUNNING, started_at=timezone.now())
    CampaignFactory(
        name="Summer teaser", status=CampaignStatus.SCHEDULED, scheduled_at=timezone.now() + timedelta(days=1)
    )
    CampaignFactory(name="API send #9", status=CampaignStatus.RUNNING, is_single_send=True)
    now = timezone.now()
    Message.objects.bulk_create(
        [
            Message(campaign=running, phone="+447400000001", status=S.DELIVERED, segments=2, submitted_at=now),
            Message(
                campaign=running,
                phone="+447400000002",
                status=S.UNDELIVERED,
                segments=1,
                submitted_at=now,
                reason="undelivered: the network could not deliver it",
            ),
            Message(campaign=running, phone="+447400000003", status=S.PENDING),
        ]
    )
    page = marketer_client.get(reverse("admin:index")).content.decode()
    assert "Spring sale" in page and "Summer teaser" in page and "API send #9" not in page
    assert 'data-figure="today-messages">2<' in page and 'data-figure="today-segments">3<' in page
    assert "+447400000002" in page and "the network could not deliver it" in page
    assert 'class="cd-progress"' in page


def test_internals_are_an_operator_section_hidden_from_marketers(marketer_client, operator_client) -> None:
    marketer = marketer_client.get(reverse("admin:index")).content.decode()
    for internal in ("Batches in flight", "Message parts", "Receipts", "Bind health", "Operations (internal)"):
        assert internal.lower() not in marketer.lower(), internal
    assert "Campaigns" in marketer
    operator = operator_client.get(reverse("admin:index")).content.decode()
    section = operator[operator.index("Operations (internal)") :]
    assert "Message parts" in section and "Receipts" in section and "Bind health" in section


def test_no_view_site_link(marketer_client) -> None:
    page = marketer_client.get(reverse("admin:campaigns_campaign_changelist")).content.decode()
    assert "View site" not in page


def test_labels_say_smpp_and_mm4(operator_client) -> None:
    page = operator_client.get(reverse("admin:campaigns_account_change", args=[AccountFactory().pk])).content.decode()
    assert "SMPP host" in page and "MM4 port" in page and "Smpp host" not in page and "Mm4 port" not in page


@pytest.mark.parametrize("model", ["message", "messagepart", "receipt"])
def test_records_are_read_only_even_for_superusers(admin_client, model) -> None:
    part = MessagePartFactory()
    from campaigns.models import Receipt

    receipt = Receipt.objects.create(account=part.account, provider_message_id="abc", stat="DELIVRD", part=part)
    obj_id = {"message": part.message_id, "messagepart": part.pk, "receipt": receipt.pk}[model]
    change = admin_client.get(reverse(f"admin:campaigns_{model}_change", args=[obj_id]))
    assert change.status_code == 200
    assert 'name="_save"' not in change.content.decode()
    assert (
        admin_client.post(
            reverse(f"admin:campaigns_{model}_change", args=[obj_id]), {"status": "delivered"}
        ).status_code
        == 403
    )
    assert admin_client.get(reverse(f"admin:campaigns_{model}_add")).status_code == 403
    assert admin_client.get(reverse(f"admin:campaigns_{model}_delete", args=[obj_id])).status_code == 403


def test_api_single_sends_are_listed_apart(marketer_client, marketer, account) -> None:
    CampaignFactory(name="Newsletter")
    assert marketer.post(
        "/api/v1/send/", {"account": account.id, "phone": "+44 7400 100001", "body": "Code 1"}, format="json"
    ).status_code in (200, 201, 202)
    url = reverse("admin:campaigns_campaign_changelist")
    default = marketer_client.get(url).content.decode()
    assert "Newsletter" in default and "API send" not in default
    apart = marketer_client.get(url, {"kind": "api"}).content.decode()
    assert "API send" in apart and "Newsletter" not in apart


def test_assigning_a_role_makes_the_user_staff(admin_client) -> None:
    sync_roles()
    user = User.objects.create_user("newmarketer", password="a-long-pass-123")
    data = {
        "username": "newmarketer",
        "is_active": "on",
        "groups": [Group.objects.get(name=MARKETER).pk],
        "date_joined_0": "2026-01-01",
        "date_joined_1": "10:00:00",
        "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "10:00:00",
    }
    response = admin_client.post(reverse("admin:auth_user_change", args=[user.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    user.refresh_from_db()
    assert user.is_staff and user.groups.filter(name=MARKETER).exists()
    page = Client().post(reverse("admin:login"), {"username": "newmarketer", "password": "a-long-pass-123"})
    assert page.status_code == 302


def test_a_user_without_a_role_is_told_why_not_a_generic_error() -> None:
    User.objects.create_user("norole", password="a-long-pass-123")
    page = Client().post(reverse("admin:login"), {"username": "norole", "password": "a-long-pass-123"})
    text = page.content.decode()
    assert "has no role yet" in text and "correct username and password" not in text


def test_bind_health_in_words_local_time_and_no_delete(admin_client, operator_client) -> None:
    account = AccountFactory(system_id="wordy")
    status = BindStatus.objects.create(
        name="wordy/trx@h:1",
        system_id="wordy",
        mode="trx",
        host="h",
        pid=1,
        smsc="127.0.0.1:2775",
        state="bound",
        stats={
            "submits": 1234,
            "throttles": 2,
            "reconnects": 0,
            "last_enquire_link_resp_at": timezone.now().timestamp(),
        },
    )
    page = admin_client.get(reverse("admin:smpp_transport_bindstatus_change", args=[status.pk])).content.decode()
    assert "Transceiver bind on h (pid 1) to 127.0.0.1:2775: bound and sending" in page
    assert "1,234 submits" in page and "s ago" in page and "last_enquire_link_resp_at" not in page
    assert admin_client.get(reverse("admin:smpp_transport_bindstatus_delete", args=[status.pk])).status_code == 403
    changelist = admin_client.get(reverse("admin:smpp_transport_bindstatus_changelist")).content.decode()
    assert "delete_selected" not in changelist
    account_page = operator_client.get(reverse("admin:campaigns_account_change", args=[account.pk])).content.decode()
    assert "Bind health (SMPP)" in account_page and "1,234 submits" in account_page
    assert "MM4 health (MMS)" in account_page and "Test SMPP connection" in account_page


def test_a_403_is_logged_without_a_traceback() -> None:
    try:
        raise PermissionError("nope")
    except PermissionError:
        import sys

        record = logging.LogRecord(
            "django.request", logging.WARNING, __file__, 1, "Forbidden: %s", ("/x",), sys.exc_info()
        )
    record.status_code = 403
    assert NoTracebackForClientErrors().filter(record) and record.exc_info is None
    record.status_code, record.exc_info = 500, (ValueError, ValueError("x"), None)
    assert NoTracebackForClientErrors().filter(record) and record.exc_info is not None


def test_the_tick_is_not_logged_every_second_at_info() -> None:
    quiet = QuietTick()
    tick = logging.LogRecord(
        "celery.beat",
        logging.INFO,
        __file__,
        1,
        "Scheduler: Sending due task %s (%s)",
        ("tick", "campaigns.tick"),
        None,
    )
    other = logging.LogRecord(
        "celery.app.trace",
        logging.INFO,
        __file__,
        1,
        "Task %(name)s succeeded",
        ({"name": "campaigns.import_contacts"},),
        None,
    )
    failed = logging.LogRecord("celery.app.trace", logging.ERROR, __file__, 1, "Task campaigns.tick raised", (), None)
    assert not quiet.filter(tick) and quiet.filter(other) and quiet.filter(failed)
    assert any(isinstance(f, QuietTick) for f in logging.getLogger("celery.beat").filters)


def test_a_marketer_forbidden_page_is_a_403_page(marketer_client) -> None:
    MessageFactory()
    assert marketer_client.get(reverse("admin:smpp_transport_bindstatus_changelist")).status_code == 403
