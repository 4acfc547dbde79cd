"""POST /campaigns/{id}/resend-failed/ with ``include_unknown`` (opt-in, default false)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from campaigns.models import Campaign
from campaigns.statuses import S
from tests.campaigns.resend_unknown_setup import FAILED, UNKNOWN, finished_with_failed_and_unknown, list_phones

pytestmark = pytest.mark.django_db


def _resend(client: APIClient, campaign: Campaign, data: dict | None = None):
    return client.post(f"/api/v1/campaigns/{campaign.id}/resend-failed/", data or {}, format="json")


def test_unknown_only_when_asked_then_sent_to(marketer: APIClient, settings) -> None:
    original = finished_with_failed_and_unknown(settings)
    plain = _resend(marketer, original)
    assert plain.status_code == 201
    assert list_phones(Campaign.objects.get(id=plain.json()["id"])) == [FAILED]
    assert _resend(marketer, original, {"include_unknown": False}).json()["name"] == "Autumn sale (resend to failed)"

    wider = _resend(marketer, original, {"include_unknown": True})
    assert wider.status_code == 201 and wider.json()["name"] == "Autumn sale (resend to failed and unknown)"
    draft = Campaign.objects.get(id=wider.json()["id"])
    assert list_phones(draft) == [FAILED, UNKNOWN] and draft.resend_of_id == original.id
    assert marketer.post(f"/api/v1/campaigns/{draft.id}/send-now/", format="json").status_code == 200
    assert dict(draft.messages.values_list("phone", "status")) == {FAILED: S.PENDING, UNKNOWN: S.PENDING}


def test_only_unknown_is_a_conflict_unless_asked(marketer: APIClient, settings) -> None:
    original = finished_with_failed_and_unknown(settings, failed=False)
    refused = _resend(marketer, original)
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["message"] == "No failed messages to resend."
    asked = _resend(marketer, original, {"include_unknown": True})
    assert asked.status_code == 201 and list_phones(Campaign.objects.get(id=asked.json()["id"])) == [UNKNOWN]


def test_bad_input_and_permissions(marketer: APIClient, viewer: APIClient, settings) -> None:
    original = finished_with_failed_and_unknown(settings)
    bad = _resend(marketer, original, {"include_unknown": "maybe"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "include_unknown"
    assert _resend(marketer, original, {"unknown": True}).status_code == 400  # a misspelt option is not ignored
    assert _resend(viewer, original, {"include_unknown": True}).status_code == 403
    assert not Campaign.objects.filter(resend_of=original).exists()


def test_schema_documents_the_option_and_its_risk(viewer: APIClient) -> None:
    schema = viewer.get("/api/schema/?format=json").json()
    field = schema["components"]["schemas"]["ResendFailedRequest"]["properties"]["include_unknown"]
    assert field["type"] == "boolean" and field["default"] is False
    assert "deliver it twice" in field["description"]
