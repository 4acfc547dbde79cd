"""A message's page shows each part with its provider id, status history and error."""

from __future__ import annotations

import pytest
from django.urls import reverse

from campaigns.models import Receipt
from tests.factories import MessagePartFactory

pytestmark = pytest.mark.django_db


def test_message_page_shows_part_history(admin_client) -> None:
    from django.utils import timezone

    part = MessagePartFactory(
        status="undelivered", provider_message_id="ab12", submitted_at=timezone.now(), error="receipt err 001"
    )
    for stat, err in (("ENROUTE", "000"), ("UNDELIV", "001")):
        Receipt.objects.create(
            account=part.account,
            provider_message_id="ab12",
            stat=stat,
            err=err,
            status="undelivered",
            part=part,
            state="applied",
        )
    html = admin_client.get(reverse("admin:campaigns_message_change", args=[part.message_id])).content.decode()
    assert "ab12" in html and "submitted" in html
    assert "receipt ENROUTE" in html and "receipt UNDELIV err 001" in html and "error: receipt err 001" in html
    page = admin_client.get(reverse("admin:campaigns_messagepart_change", args=[part.id])).content.decode()
    assert "UNDELIV" in page


def test_a_part_past_the_receipt_deadline_says_so_in_the_message_list_and_its_history(admin_client) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from campaigns.services.receipt_deadline import settle_overdue_parts

    long_ago = timezone.now() - timedelta(days=3)
    part = MessagePartFactory(
        status="accepted",
        provider_message_id="cd34",
        submitted_at=long_ago,
        message__status="accepted",
        message__submitted_at=long_ago,
        message__campaign__status="running",
    )
    assert settle_overdue_parts() == 1
    words = "no delivery receipt within 48 h"
    listing = admin_client.get(reverse("admin:campaigns_message_changelist")).content.decode()
    assert words in listing
    html = admin_client.get(reverse("admin:campaigns_message_change", args=[part.message_id])).content.decode()
    part.refresh_from_db()
    assert f"{part.updated_at:%Y-%m-%d %H:%M:%S} {words}: unknown" in html
