"""The API enforces the admin's roles: viewers read reports, marketers run campaigns, operators all."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from campaigns.models import Account, Campaign, CampaignStatus, RecipientList
from tests.api.conftest import ClientFor
from tests.factories import AccountFactory, CampaignFactory, ContactFactory, MessageFactory, RecipientListFactory

pytestmark = pytest.mark.django_db


def _sendable_campaign() -> Campaign:
    campaign = CampaignFactory()
    contact = ContactFactory()
    campaign.recipient_lists.add(contact.recipient_list)
    return campaign


def test_anonymous_gets_401_with_the_envelope(anonymous: APIClient) -> None:
    response = anonymous.get("/api/v1/campaigns/")
    assert response.status_code == 401
    assert response.json() == {
        "errors": [
            {
                "field": None,
                "code": "not_authenticated",
                "message": "Authentication credentials were not provided.",
            }
        ]
    }
    assert response.headers["WWW-Authenticate"] == "Token"


def test_a_wrong_token_is_401(anonymous: APIClient) -> None:
    anonymous.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = anonymous.get("/api/v1/campaigns/")
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "authentication_failed"


def test_session_authentication_works_for_the_browsable_api(client_for: ClientFor) -> None:
    user = client_for("viewer").user
    browser = APIClient()
    browser.force_login(user)
    response = browser.get("/api/v1/campaigns/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"Campaign" in response.content


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/api/v1/campaigns/", True),
        ("/api/v1/messages/", True),
        ("/api/v1/lists/", False),
        ("/api/v1/contacts/", False),
        ("/api/v1/opt-outs/", False),
        ("/api/v1/accounts/", False),
    ],
)
def test_viewer_reads_reports_only(viewer: APIClient, path: str, allowed: bool) -> None:
    response = viewer.get(path)
    assert response.status_code == (200 if allowed else 403)
    if not allowed:
        assert response.json()["errors"][0]["code"] == "permission_denied"


def test_viewer_reads_campaign_stats(viewer: APIClient) -> None:
    campaign = CampaignFactory()
    assert viewer.get(f"/api/v1/campaigns/{campaign.id}/stats/").status_code == 200


@pytest.mark.parametrize("action", ["send-now", "schedule", "pause", "resume", "cancel", "test-send", "duplicate"])
def test_viewer_cannot_act_on_a_campaign(viewer: APIClient, action: str) -> None:
    campaign = _sendable_campaign()
    response = viewer.post(f"/api/v1/campaigns/{campaign.id}/{action}/", {}, format="json")
    assert response.status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
    assert Campaign.objects.count() == 1


def test_viewer_cannot_send_a_single_message(viewer: APIClient, account: Account) -> None:
    response = viewer.post("/api/v1/send/", {"account": account.id, "phone": "+447911100001", "body": "hi"})
    assert response.status_code == 403
    assert not Campaign.objects.exists()


def test_viewer_cannot_create_change_or_delete(viewer: APIClient) -> None:
    campaign = CampaignFactory(name="Before")
    assert viewer.post("/api/v1/campaigns/", {"name": "x", "account": campaign.account_id}).status_code == 403
    assert viewer.patch(f"/api/v1/campaigns/{campaign.id}/", {"name": "After"}).status_code == 403
    assert viewer.delete(f"/api/v1/campaigns/{campaign.id}/").status_code == 403
    assert viewer.post("/api/v1/lists/", {"name": "x"}).status_code == 403
    campaign.refresh_from_db()
    assert campaign.name == "Before"
    assert not RecipientList.objects.exists()


def test_marketer_sends_and_manages_audiences(marketer: APIClient) -> None:
    campaign = _sendable_campaign()
    assert marketer.post(f"/api/v1/campaigns/{campaign.id}/send-now/").status_code == 200
    assert marketer.post("/api/v1/lists/", {"name": "VIP"}).status_code == 201
    assert marketer.get("/api/v1/accounts/").status_code == 200


@pytest.mark.parametrize("role", ["marketer", "operator"])
def test_nobody_edits_accounts_through_the_api(client_for: ClientFor, role: str) -> None:
    client = client_for(role)
    account = AccountFactory(name="Original")
    detail = f"/api/v1/accounts/{account.id}/"
    responses = [
        client.post("/api/v1/accounts/", {"name": "New", "system_id": "new1"}),
        client.put(detail, {"name": "Changed", "system_id": account.system_id}),
        client.patch(detail, {"name": "Changed"}),
        client.delete(detail),
    ]
    expected = 403 if role == "marketer" else 405
    assert [r.status_code for r in responses] == [expected] * 4
    account.refresh_from_db()
    assert account.name == "Original"
    assert Account.objects.count() == 1


def test_user_without_role_sees_nothing(client_for: ClientFor) -> None:
    client = client_for(None)
    MessageFactory()
    for path in ("/api/v1/campaigns/", "/api/v1/messages/", "/api/v1/accounts/", "/api/v1/lists/"):
        assert client.get(path).status_code == 403, path


def test_marketer_cannot_bulk_add_without_add_contact(client_for: ClientFor) -> None:
    viewer = client_for("viewer")
    recipient_list = RecipientListFactory()
    response = viewer.post(f"/api/v1/lists/{recipient_list.id}/contacts/", {"contacts": [{"phone": "+447911100001"}]})
    assert response.status_code == 403
    assert not recipient_list.contacts.exists()
