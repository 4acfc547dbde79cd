"""The API says why a message is "unknown" when its receipt never came."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from campaigns.models import CampaignStatus
from campaigns.services.receipt_deadline import settle_overdue_parts
from campaigns.statuses import MessageStatus as S
from tests.factories import CampaignFactory, MessageFactory, MessagePartFactory

pytestmark = pytest.mark.django_db


def test_a_message_past_the_receipt_deadline_is_unknown_with_the_reason(viewer: APIClient, settings) -> None:
    settings.RECEIPT_DEADLINE_S = 6 * 3600
    long_ago = timezone.now() - timedelta(hours=7)
    campaign = CampaignFactory(status=CampaignStatus.RUNNING)
    message = MessageFactory(campaign=campaign, status=S.ACCEPTED, submitted_at=long_ago)
    MessagePartFactory(message=message, status=S.ACCEPTED, provider_message_id="ef56", submitted_at=long_ago)
    assert settle_overdue_parts() == 1
    detail = viewer.get(f"/api/v1/messages/{message.id}/").json()
    assert (detail["status"], detail["reason"]) == (S.UNKNOWN, "no delivery receipt within 6 h")
    assert [(p["status"], p["error"]) for p in detail["parts"]] == [(S.UNKNOWN, "no delivery receipt within 6 h")]
    listed = viewer.get("/api/v1/messages/", {"campaign": campaign.id, "status": "unknown"}).json()["results"]
    assert [m["id"] for m in listed] == [message.id]
