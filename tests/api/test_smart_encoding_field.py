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
