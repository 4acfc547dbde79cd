"""The campaign API has the smart encoding option (on by default)."""

from __future__ import annotations

import pytest

from campaigns.models import Campaign
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db
BODY = "We\u2019re open late tonight"


def test_api_reads_and_writes_the_option(marketer) -> None:
    account = AccountFactory()
    created = marketer.post(
        "/api/v1/campaigns/", {"name": "x", "account": account.pk, "body": BODY, "smart_encoding": False}, format="json"
    )
    assert created.status_code == 201, created.content
    assert created.json()["smart_encoding"] is False
    assert Campaign.objects.get(pk=created.json()["id"]).smart_encoding is False
    default = marketer.post("/api/v1/campaigns/", {"name": "y", "account": account.pk, "body": BODY}, format="json")
    assert default.json()["smart_encoding"] is True


def test_a_started_campaign_keeps_its_smart_encoding(marketer) -> None:
    """Parts retried after a pause must come from the same cut as the parts already sent."""
    from tests.api.test_marketer_checks import _patch, _paused_after_start

    campaign, _ = _paused_after_start()
    response = _patch(marketer, campaign, {"smart_encoding": False})
    assert response.status_code == 409
    error = response.json()["errors"][0]
    assert error["field"] == "smart_encoding" and "cannot change once sending has started" in error["message"]
    campaign.refresh_from_db()
    assert campaign.smart_encoding is True
    assert _patch(marketer, campaign, {"smart_encoding": True}).status_code == 200
