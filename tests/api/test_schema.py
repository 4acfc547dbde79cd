"""The OpenAPI schema: complete, stable component names, errors documented; the browsable API renders."""

from __future__ import annotations

import pytest
import yaml
from rest_framework.test import APIClient

from campaigns.models import Channel
from tests.factories import CampaignFactory, ContactFactory, MessageFactory, OptOutFactory

pytestmark = pytest.mark.django_db

# Client code is generated from these names: renaming one is a breaking change.
COMPONENTS = {
    "Account",
    "ApprovalCommentRequest",
    "ApprovalStateEnum",
    "BulkContactsRequest",
    "Campaign",
    "CampaignEvent",
    "CampaignEventKindEnum",
    "CampaignMedia",
    "CampaignRequest",
    "CampaignStats",
    "CampaignStatusEnum",
    "ChannelEnum",
    "Contact",
    "ContactImportRequest",
    "ContactRequest",
    "ContactRowRequest",
    "Error",
    "ErrorEnvelope",
    "ImportResult",
    "MediaUploadRequest",
    "Message",
    "MessagePart",
    "MessageStatusEnum",
    "OptOut",
    "OptOutRequest",
    "OptOutSourceEnum",
    "OptOutUpdate",
    "PatchedCampaignRequest",
    "PatchedContactRequest",
    "PatchedOptOutUpdateRequest",
    "PatchedRecipientListRequest",
    "RecipientList",
    "RecipientListRequest",
    "RejectRequest",
    "RejectedRow",
    "Route",
    "RouteEntry",
    "RouteEntryRequest",
    "RouteRequest",
    "PatchedRouteRequest",
    "RouteStrategyEnum",
    "ScheduleRequest",
    "SingleSendRequest",
    "TestSendRequest",
    "WebhookDeliveryStatusEnum",
    "WebhookEndpoint",
    "WebhookEndpointCreated",
    "WebhookEventTypeEnum",
}


@pytest.fixture(scope="module")
def schema() -> dict:
    """Generated once for the module (it takes a second or two; it reads no database)."""
    response = APIClient().get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_component_names_are_stable(schema: dict) -> None:
    names = set(schema["components"]["schemas"])
    assert COMPONENTS <= names
    # An enum without an explicit name gets a hashed one (e.g. Status0c2Enum) that changes.
    assert {n for n in names if n.endswith("Enum")} <= COMPONENTS


def test_every_operation_documents_its_errors_with_the_envelope(schema: dict) -> None:
    envelope = {"$ref": "#/components/schemas/ErrorEnvelope"}
    operations = 0
    for path, methods in schema["paths"].items():
        assert path.startswith("/api/v1/")
        for method, operation in methods.items():
            operations += 1
            assert operation.get("summary"), (method, path)
            for code in ("400", "401", "403", "404"):
                assert operation["responses"][code]["content"]["application/json"]["schema"] == envelope
            assert {"tokenAuth": []} in operation["security"]
    assert operations == 62  # 44, the 8 of /webhooks/, the 4 of approval, the 6 of /routes/


def test_request_bodies_refuse_unknown_properties(schema: dict) -> None:
    for name, component in schema["components"]["schemas"].items():
        if name.endswith("Request"):
            assert component["additionalProperties"] is False, name


def test_single_send_documents_the_idempotency_key(schema: dict) -> None:
    [header] = [p for p in schema["paths"]["/api/v1/send/"]["post"]["parameters"] if p["in"] == "header"]
    assert header["name"] == "Idempotency-Key" and header["schema"]["maxLength"] == 255


def test_swagger_ui_is_served(anonymous: APIClient) -> None:
    response = anonymous.get("/api/docs/")
    assert response.status_code == 200 and b"swagger" in response.content.lower()


def test_the_browsable_api_renders_every_resource(operator: APIClient) -> None:
    contact = ContactFactory()
    campaign = CampaignFactory(channel=Channel.MMS)
    message = MessageFactory(campaign=campaign)
    opt_out = OptOutFactory()
    paths = [
        "/api/v1/accounts/",
        f"/api/v1/accounts/{campaign.account_id}/",
        "/api/v1/lists/",
        f"/api/v1/lists/{contact.recipient_list_id}/",
        "/api/v1/contacts/",
        f"/api/v1/contacts/{contact.id}/",
        "/api/v1/opt-outs/",
        f"/api/v1/opt-outs/{opt_out.id}/",
        "/api/v1/campaigns/",
        f"/api/v1/campaigns/{campaign.id}/",
        f"/api/v1/campaigns/{campaign.id}/stats/",
        f"/api/v1/campaigns/{campaign.id}/media/",
        "/api/v1/messages/",
        f"/api/v1/messages/{message.id}/",
    ]
    for path in paths:
        response = operator.get(path, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, path
        assert response["Content-Type"].startswith("text/html")
    assert operator.get("/api/v1/send/", HTTP_ACCEPT="text/html").status_code == 405


def test_an_unacceptable_accept_header_is_a_406_envelope(operator: APIClient) -> None:
    response = operator.get("/api/v1/campaigns/", HTTP_ACCEPT="application/xml")
    assert response.status_code == 406
    assert response.json()["errors"][0]["code"] == "not_acceptable"
