"""Every campaign action through the API, asserted on the database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from campaigns.models import Campaign, CampaignStatus, Message
from campaigns.statuses import MessageStatus
from tests.factories import CampaignFactory, ContactFactory, MessageFactory, RecipientListFactory

pytestmark = pytest.mark.django_db

C, S = CampaignStatus, MessageStatus


@pytest.fixture
def campaign() -> Campaign:
    recipient_list = RecipientListFactory()
    for n in range(3):
        ContactFactory(recipient_list=recipient_list, phone=f"+44791110000{n}")
    campaign = CampaignFactory(body="Hi {{ first_name }}", timezone="Europe/London")
    campaign.recipient_lists.add(recipient_list)
    return campaign


def _post(client: APIClient, campaign: Campaign, action: str, data: dict | None = None):
    return client.post(f"/api/v1/campaigns/{campaign.id}/{action}/", data or {}, format="json")


def test_send_now_starts_and_materialises(marketer: APIClient, campaign: Campaign) -> None:
    response = _post(marketer, campaign, "send-now")
    assert response.status_code == 200
    assert response.json()["status"] == "running"
    campaign.refresh_from_db()
    assert campaign.status == C.RUNNING and campaign.started_at and campaign.materialised_at
    assert Message.objects.filter(campaign=campaign, status=S.PENDING).count() == 3


def test_schedule_with_offset_and_in_the_campaign_zone(marketer: APIClient, campaign: Campaign) -> None:
    response = _post(marketer, campaign, "schedule", {"scheduled_at": "2031-06-01T09:00:00+02:00"})
    assert response.status_code == 200, response.json()
    campaign.refresh_from_db()
    assert campaign.status == C.SCHEDULED
    assert campaign.scheduled_at == datetime(2031, 6, 1, 7, 0, tzinfo=UTC)
    # No offset: wall-clock time in the campaign's zone (London is UTC+1 in June).
    assert _post(marketer, campaign, "schedule", {"scheduled_at": "2031-06-01T09:00:00"}).status_code == 200
    campaign.refresh_from_db()
    assert campaign.scheduled_at == datetime(2031, 6, 1, 8, 0, tzinfo=UTC)


def test_schedule_needs_a_valid_time(marketer: APIClient, campaign: Campaign) -> None:
    for payload in ({}, {"scheduled_at": "tomorrow"}, {"scheduled_at": "0001-01-01T00:00:00+14:00"}):
        response = _post(marketer, campaign, "schedule", payload)
        assert response.status_code == 400, payload
        assert response.json()["errors"][0]["field"] == "scheduled_at"
    campaign.refresh_from_db()
    assert campaign.status == C.DRAFT


def test_pause_returns_queued_messages_to_pending_and_resume_runs_again(
    marketer: APIClient, campaign: Campaign
) -> None:
    _post(marketer, campaign, "send-now")
    Message.objects.filter(campaign=campaign).update(status=S.QUEUED, claim=7)
    response = _post(marketer, campaign, "pause")
    assert response.status_code == 200
    campaign.refresh_from_db()
    assert campaign.status == C.PAUSED
    assert set(Message.objects.filter(campaign=campaign).values_list("status", "claim")) == {(S.PENDING, None)}
    assert _post(marketer, campaign, "resume").status_code == 200
    campaign.refresh_from_db()
    assert campaign.status == C.RUNNING


def test_cancel_cancels_unsent_messages(marketer: APIClient, campaign: Campaign) -> None:
    _post(marketer, campaign, "send-now")
    sent = Message.objects.filter(campaign=campaign).first()
    Message.objects.filter(id=sent.id).update(status=S.DELIVERED)
    assert _post(marketer, campaign, "cancel").status_code == 200
    campaign.refresh_from_db()
    assert campaign.status == C.CANCELLED and campaign.completed_at
    statuses = sorted(Message.objects.filter(campaign=campaign).values_list("status", flat=True))
    assert statuses == [S.CANCELLED, S.CANCELLED, S.DELIVERED]


def test_test_send_creates_a_running_test_campaign(marketer: APIClient, campaign: Campaign) -> None:
    response = _post(marketer, campaign, "test-send", {"phones": ["+44 7911 100009", "+447911100009"]})
    assert response.status_code == 201, response.json()
    test = Campaign.objects.get(id=response.json()["id"])
    assert test.is_test and test.status == C.RUNNING
    assert list(test.messages.values_list("phone", flat=True)) == ["+447911100009"]
    campaign.refresh_from_db()
    assert campaign.status == C.DRAFT


def test_test_send_reports_the_bad_number(marketer: APIClient, campaign: Campaign) -> None:
    response = _post(marketer, campaign, "test-send", {"phones": ["+1 23"]})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["field"] == "phones" and "not a valid phone number" in error["message"]
    too_many = _post(marketer, campaign, "test-send", {"phones": ["+447911100001"] * 21})
    assert too_many.status_code == 400
    assert Campaign.objects.count() == 1


def test_duplicate_copies_as_a_draft(marketer: APIClient, campaign: Campaign) -> None:
    _post(marketer, campaign, "send-now")
    response = _post(marketer, campaign, "duplicate")
    assert response.status_code == 201
    copy = Campaign.objects.get(id=response.json()["id"])
    assert copy.status == C.DRAFT and copy.name == f"{campaign.name} (copy)"
    assert list(copy.recipient_lists.all()) == list(campaign.recipient_lists.all())
    assert response.json()["recipient_lists"] == [campaign.recipient_lists.get().id]
    assert not copy.messages.exists()


def test_resend_failed_makes_a_draft_of_the_failed_recipients(marketer: APIClient) -> None:
    original = CampaignFactory(status=C.COMPLETED)
    MessageFactory(campaign=original, phone="+447911100001", status=S.FAILED)
    MessageFactory(campaign=original, phone="+447911100002", status=S.UNDELIVERED)
    MessageFactory(campaign=original, phone="+447911100003", status=S.DELIVERED)
    response = _post(marketer, original, "resend-failed")
    assert response.status_code == 201
    resend = Campaign.objects.get(id=response.json()["id"])
    assert resend.resend_of_id == original.id and resend.status == C.DRAFT
    recipients = resend.recipient_lists.get()
    assert response.json()["recipient_lists"] == [recipients.id]
    assert sorted(recipients.contacts.values_list("phone", flat=True)) == ["+447911100001", "+447911100002"]
    assert not resend.messages.exists()


def test_resend_failed_with_nothing_failed_is_a_conflict(marketer: APIClient, campaign: Campaign) -> None:
    response = _post(marketer, campaign, "resend-failed")
    assert response.status_code == 409
    assert response.json()["errors"] == [
        {"field": None, "code": "nothing_to_do", "message": "No failed messages to resend."}
    ]


def test_an_action_in_the_wrong_state_is_a_409_with_the_reason(marketer: APIClient, campaign: Campaign) -> None:
    response = _post(marketer, campaign, "pause")
    assert response.status_code == 409
    assert response.json()["errors"] == [
        {"field": "status", "code": "invalid_state", "message": "Cannot pause a campaign that is draft."}
    ]
    campaign.refresh_from_db()
    assert campaign.status == C.DRAFT


def test_send_now_without_recipients_is_a_400_naming_the_field(marketer: APIClient) -> None:
    campaign = CampaignFactory()
    response = _post(marketer, campaign, "send-now")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "recipient_lists"
    campaign.refresh_from_db()
    assert campaign.status == C.DRAFT


def test_stats_count_per_status(viewer: APIClient) -> None:
    campaign = CampaignFactory(status=C.RUNNING)
    for n, status in enumerate([S.DELIVERED, S.DELIVERED, S.UNDELIVERED, S.ACCEPTED, S.PENDING, S.SUPPRESSED]):
        MessageFactory(campaign=campaign, phone=f"+44791110001{n}", status=status)
    response = viewer.get(f"/api/v1/campaigns/{campaign.id}/stats/")
    assert response.status_code == 200
    stats = response.json()
    assert {k: stats[k] for k in ("total", "waiting", "sent", "delivered", "failed", "suppressed", "cancelled")} == {
        "total": 6,
        "waiting": 1,
        "sent": 4,
        "delivered": 2,
        "failed": 1,
        "suppressed": 1,
        "cancelled": 0,
    }
    assert stats["delivery_rate"] == 0.5
    assert stats["by_status"]["delivered"] == 2 and stats["by_status"]["failed"] == 0
    assert set(stats["by_status"]) == set(S.values)


def test_stats_of_an_empty_campaign(viewer: APIClient) -> None:
    stats = viewer.get(f"/api/v1/campaigns/{CampaignFactory().id}/stats/").json()
    assert stats["total"] == 0 and stats["delivery_rate"] is None
