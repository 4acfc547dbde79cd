"""Nobody reads a secret through the API: not in data, errors, OPTIONS, HTML or the schema."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.api.conftest import ClientFor
from tests.factories import AccountFactory, CampaignFactory, MessageFactory

pytestmark = pytest.mark.django_db

PASSWORD, API_KEY = "pw8chars", "mm4-key-do-not-show"
SECRET_NAMES = ("smpp_password", "mm4_api_key")


def _assert_clean(content: bytes) -> None:
    text = content.decode("utf-8", errors="replace")
    for secret in (PASSWORD, API_KEY, *SECRET_NAMES):
        assert secret not in text


@pytest.mark.parametrize("role", ["operator", "marketer"])
def test_accounts_show_id_name_and_system_id_only(client_for: ClientFor, role: str) -> None:
    client = client_for(role)
    account = AccountFactory(name="Provider", system_id="prov1", smpp_password=PASSWORD, mm4_api_key=API_KEY)
    listing = client.get("/api/v1/accounts/")
    detail = client.get(f"/api/v1/accounts/{account.id}/")
    assert detail.json() == {"id": account.id, "name": "Provider", "system_id": "prov1"}
    assert listing.json()["results"] == [detail.json()]
    for response in (listing, detail):
        _assert_clean(response.content)


def test_no_endpoint_renders_a_secret(operator: APIClient) -> None:
    account = AccountFactory(smpp_password=PASSWORD, mm4_api_key=API_KEY)
    campaign = CampaignFactory(account=account)
    message = MessageFactory(campaign=campaign)
    paths = [
        "/api/v1/accounts/",
        f"/api/v1/accounts/{account.id}/",
        "/api/v1/campaigns/",
        f"/api/v1/campaigns/{campaign.id}/",
        f"/api/v1/campaigns/{campaign.id}/stats/",
        "/api/v1/messages/",
        f"/api/v1/messages/{message.id}/",
    ]
    for path in paths:
        for accept in ("application/json", "text/html"):
            response = operator.get(path, HTTP_ACCEPT=accept)
            assert response.status_code == 200, path
            _assert_clean(response.content)
        _assert_clean(operator.options(path).content)


def test_a_secret_sent_as_input_is_not_echoed(operator: APIClient) -> None:
    account = AccountFactory(smpp_password=PASSWORD, mm4_api_key=API_KEY)
    response = operator.patch(f"/api/v1/accounts/{account.id}/", {"smpp_password": "typedpw1"})
    assert response.status_code == 405
    assert b"typedpw1" not in response.content
    created = operator.post("/api/v1/campaigns/", {"name": "x", "account": account.id, "smpp_password": "typedpw1"})
    assert created.status_code == 400
    assert b"typedpw1" not in created.content
    account.refresh_from_db()
    assert account.smpp_password == PASSWORD


def test_schema_and_docs_never_mention_a_secret(anonymous: APIClient) -> None:
    AccountFactory(smpp_password=PASSWORD, mm4_api_key=API_KEY)
    for accept in ("application/vnd.oai.openapi", "application/vnd.oai.openapi+json"):
        schema = anonymous.get("/api/schema/", HTTP_ACCEPT=accept)
        assert schema.status_code == 200
        assert b"/api/v1/accounts/" in schema.content
        _assert_clean(schema.content)
    _assert_clean(anonymous.get("/api/docs/").content)
