"""Approval before sending through the API: request, approve, reject, history, the 409 and 403s."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from campaigns.models import Account, ApprovalState, Campaign, CampaignStatus, Message
from tests.api.conftest import ClientFor
from tests.factories import CampaignFactory, ContactFactory, RecipientListFactory

pytestmark = pytest.mark.django_db
A, C = ApprovalState, CampaignStatus


@pytest.fixture
def campaign(marketer: APIClient) -> Campaign:
    recipient_list = RecipientListFactory()
    for n in range(5):
        ContactFactory(recipient_list=recipient_list, phone=f"+44791110000{n}")
    campaign = CampaignFactory(body="Hi {{ first_name }}", created_by=marketer.user)
    campaign.recipient_lists.add(recipient_list)
    return campaign


@pytest.fixture
def approver(client_for: ClientFor) -> APIClient:
    return client_for("approver")


def _post(client: APIClient, campaign: Campaign, action: str, data: dict | None = None):
    return client.post(f"/api/v1/campaigns/{campaign.id}/{action}/", data or {}, format="json")


def test_above_k_send_is_a_409_until_an_approver_approves(settings, marketer, approver, campaign) -> None:
    settings.APPROVAL_REQUIRED_ABOVE = 4
    refused = _post(marketer, campaign, "send-now")
    assert refused.status_code == 409
    [error] = refused.json()["errors"]
    assert error["code"] == "approval_required" and "5 recipients" in error["message"]
    assert _post(marketer, campaign, "schedule", {"scheduled_at": "2031-06-01T09:00:00+00:00"}).status_code == 409

    requested = _post(marketer, campaign, "request-approval", {"comment": "please"})
    assert requested.status_code == 200 and requested.json()["approval_state"] == "pending"
    approved = _post(approver, campaign, "approve", {"comment": "ok"})
    assert approved.status_code == 200, approved.json()
    body = approved.json()
    assert (body["approval_state"], body["approved_by"]) == ("approved", approver.user.pk)
    assert body["approved_at"]
    sent = _post(marketer, campaign, "send-now")
    assert sent.status_code == 200 and sent.json()["status"] == "running"
    assert Message.objects.filter(campaign=campaign).count() == 5

    history = marketer.get(f"/api/v1/campaigns/{campaign.id}/history/")
    assert history.status_code == 200
    rows = history.json()
    assert [(r["kind"], r["actor"], r["comment"]) for r in rows] == [
        ("requested", marketer.user.username, "please"),
        ("approved", approver.user.username, "ok"),
        ("sent", marketer.user.username, ""),
    ]
    assert all(r["at"] for r in rows)


def test_marketers_cannot_approve_and_approvers_cannot_send(settings, client_for, marketer, approver, campaign) -> None:
    settings.APPROVAL_REQUIRED_ABOVE = 0
    assert _post(marketer, campaign, "request-approval").status_code == 200
    colleague = client_for("marketer")
    for action in ("approve", "reject"):
        assert _post(colleague, campaign, action, {"comment": "no"}).status_code == 403
    assert _post(approver, campaign, "send-now").status_code == 403
    assert Campaign.objects.get(pk=campaign.pk).approval_state == A.PENDING


def test_self_approval_is_a_403_naming_the_rule(settings, client_for, campaign) -> None:
    settings.APPROVAL_REQUIRED_ABOVE = 0
    both = client_for("approver")
    both.user.groups.add(*client_for("marketer").user.groups.all())
    own = CampaignFactory(created_by=both.user)
    own.recipient_lists.set(campaign.recipient_lists.all())
    assert _post(both, own, "request-approval").status_code == 200
    refused = _post(both, own, "approve")
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "self_approval"
    assert "four eyes" in refused.json()["errors"][0]["message"]
    assert Campaign.objects.get(pk=own.pk).approval_state == A.PENDING


def test_reject_needs_a_comment_and_shows_it_in_the_history(settings, marketer, approver, campaign) -> None:
    settings.APPROVAL_REQUIRED_ABOVE = 0
    assert _post(approver, campaign, "approve").status_code == 409  # nothing requested yet
    _post(marketer, campaign, "request-approval")
    missing = _post(approver, campaign, "reject", {})
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "comment"
    rejected = _post(approver, campaign, "reject", {"comment": "Wrong link"})
    assert rejected.status_code == 200 and rejected.json()["approval_state"] == "rejected"
    rows = approver.get(f"/api/v1/campaigns/{campaign.id}/history/").json()
    assert [(r["kind"], r["comment"]) for r in rows] == [("requested", ""), ("rejected", "Wrong link")]


def test_a_patch_of_the_body_withdraws_the_approval_and_unschedules(settings, marketer, approver, campaign) -> None:
    settings.APPROVAL_REQUIRED_ABOVE = 1
    _post(marketer, campaign, "request-approval")
    _post(approver, campaign, "approve")
    assert _post(marketer, campaign, "schedule", {"scheduled_at": "2031-06-01T09:00:00+00:00"}).status_code == 200
    renamed = marketer.patch(f"/api/v1/campaigns/{campaign.id}/", {"name": "New name"}, format="json")
    assert renamed.json()["approval_state"] == "approved"
    edited = marketer.patch(f"/api/v1/campaigns/{campaign.id}/", {"body": "Other text"}, format="json")
    assert edited.status_code == 200
    assert (edited.json()["approval_state"], edited.json()["status"], edited.json()["approved_by"]) == (
        "none",
        "draft",
        None,
    )
    kinds = [r["kind"] for r in marketer.get(f"/api/v1/campaigns/{campaign.id}/history/").json()]
    assert kinds == ["requested", "approved", "scheduled", "withdrawn", "unscheduled"]
    assert _post(marketer, campaign, "send-now").status_code == 409


def test_approval_fields_are_read_only(settings, marketer, campaign) -> None:
    response = marketer.patch(f"/api/v1/campaigns/{campaign.id}/", {"approval_state": "approved"}, format="json")
    assert response.status_code == 400
    assert Campaign.objects.get(pk=campaign.pk).approval_state == A.NONE


def test_below_k_and_unset_send_without_approval(settings, marketer, campaign) -> None:
    settings.APPROVAL_REQUIRED_ABOVE = 5
    assert _post(marketer, campaign, "send-now").status_code == 200
    settings.APPROVAL_REQUIRED_ABOVE = None
    other = CampaignFactory()
    other.recipient_lists.set(campaign.recipient_lists.all())
    assert _post(marketer, other, "send-now").status_code == 200
    assert Campaign.objects.get(pk=other.pk).status == C.RUNNING


def test_viewers_read_the_history_but_cannot_request(viewer, campaign) -> None:
    assert viewer.get(f"/api/v1/campaigns/{campaign.id}/history/").status_code == 200
    assert _post(viewer, campaign, "request-approval").status_code == 403


def test_adding_or_removing_mms_media_withdraws_the_approval(settings, marketer, approver, campaign) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.media_samples import png

    settings.APPROVAL_REQUIRED_ABOVE = 0
    Campaign.objects.filter(pk=campaign.pk).update(channel="mms")
    Account.objects.filter(pk=campaign.account_id).update(mm4_host="mm4.example.net")
    url = f"/api/v1/campaigns/{campaign.id}/media/"

    def upload() -> int:
        added = marketer.post(url, {"file": SimpleUploadedFile("p.png", png(), "image/png")}, format="multipart")
        assert added.status_code == 201
        return added.json()["id"]

    upload()  # an MMS needs media before it can be put up for approval
    for step in ("add", "remove"):
        assert _post(marketer, campaign, "request-approval").status_code == 200
        assert _post(approver, campaign, "approve").status_code == 200
        if step == "add":
            second = upload()
        else:
            assert marketer.delete(f"{url}{second}/").status_code == 204
        assert Campaign.objects.get(pk=campaign.pk).approval_state == A.NONE, step
    rows = marketer.get(f"/api/v1/campaigns/{campaign.id}/history/").json()
    assert [r["comment"] for r in rows if r["kind"] == "withdrawn"] == ["changed: media", "changed: media"]


def test_approvers_list_what_waits_for_them(settings, marketer, approver, campaign) -> None:
    settings.APPROVAL_REQUIRED_ABOVE = 0
    CampaignFactory()  # not requested
    _post(marketer, campaign, "request-approval")
    listed = approver.get("/api/v1/campaigns/?approval_state=pending")
    assert listed.status_code == 200
    assert [c["id"] for c in listed.json()["results"]] == [campaign.id]
    assert approver.get("/api/v1/campaigns/?approval_state=maybe").status_code == 400
