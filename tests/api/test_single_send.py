"""POST /api/v1/send/: one message, sent by the normal tick, never twice for one Idempotency-Key."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from campaigns.models import Account, Campaign, CampaignStatus, IdempotencyKey, Message
from campaigns.services.dispatch import tick
from campaigns.statuses import MessageStatus
from tests.api.conftest import ClientFor
from tests.api.factories import TokenFactory, UserFactory
from tests.factories import AccountFactory, OptOutFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/send/"


def _body(account: Account, **overrides: object) -> dict:
    return {"account": account.id, "phone": "+44 7911 100001", "body": "Your code is 1234"} | overrides


def test_a_send_is_a_running_one_message_campaign_the_tick_sends(marketer: APIClient, account: Account) -> None:
    response = marketer.post(URL, _body(account))
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["phone"], data["status"], data["channel"], data["body"]) == (
        "+447911100001",
        "pending",
        "sms",
        "Your code is 1234",
    )
    campaign = Campaign.objects.get(id=data["campaign"])
    assert campaign.status == CampaignStatus.RUNNING and not campaign.is_test
    assert campaign.name == f"API send #{data['id']}" and campaign.created_by == marketer.user
    assert campaign.materialised_at is not None
    batches = tick(enqueue=lambda batch: None)
    assert [b.message_ids for b in batches] == [[data["id"]]]
    assert Message.objects.get(id=data["id"]).status == MessageStatus.QUEUED


def test_same_key_and_body_returns_the_same_message(marketer: APIClient, account: Account) -> None:
    first = marketer.post(URL, _body(account), HTTP_IDEMPOTENCY_KEY="order-42")
    again = marketer.post(URL, _body(account, phone="+447911100001"), HTTP_IDEMPOTENCY_KEY="order-42")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Message.objects.count() == 1 and Campaign.objects.count() == 1
    assert Campaign.objects.get().name == "API send order-42"
    key = IdempotencyKey.objects.get()
    assert (key.key, key.message_id, key.response_status) == ("order-42", first.json()["id"], 201)


def test_same_key_with_another_body_is_a_409(marketer: APIClient, account: Account) -> None:
    marketer.post(URL, _body(account), HTTP_IDEMPOTENCY_KEY="k1")
    response = marketer.post(URL, _body(account, body="Another text"), HTTP_IDEMPOTENCY_KEY="k1")
    assert response.status_code == 409
    assert response.json()["errors"][0] | {"message": ""} == {
        "field": "Idempotency-Key",
        "code": "idempotency_conflict",
        "message": "",
    }
    assert Message.objects.count() == 1


def test_keys_belong_to_their_user(client_for: ClientFor, account: Account) -> None:
    one, two = client_for("marketer"), client_for("marketer")
    first = one.post(URL, _body(account), HTTP_IDEMPOTENCY_KEY="shared")
    second = two.post(URL, _body(account), HTTP_IDEMPOTENCY_KEY="shared")
    assert first.json()["id"] != second.json()["id"]
    assert Message.objects.count() == 2


def test_without_a_key_every_request_sends(marketer: APIClient, account: Account) -> None:
    marketer.post(URL, _body(account))
    marketer.post(URL, _body(account))
    assert Message.objects.count() == 2


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "naïve"])
def test_a_malformed_key_is_a_400(marketer: APIClient, account: Account, key: str) -> None:
    response = marketer.post(URL, _body(account), HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert not Message.objects.exists()


def test_a_refused_send_does_not_use_up_the_key(marketer: APIClient, account: Account) -> None:
    opt_out = OptOutFactory(phone="+447911100001")
    refused = marketer.post(URL, _body(account), HTTP_IDEMPOTENCY_KEY="retry-me")
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["code"] == "opted_out"
    assert not IdempotencyKey.objects.exists() and not Campaign.objects.exists()
    opt_out.delete()
    assert marketer.post(URL, _body(account), HTTP_IDEMPOTENCY_KEY="retry-me").status_code == 201


def test_a_replay_answers_even_after_an_opt_out(marketer: APIClient, account: Account) -> None:
    first = marketer.post(URL, _body(account), HTTP_IDEMPOTENCY_KEY="k")
    OptOutFactory(phone="+447911100001", account=account)
    again = marketer.post(URL, _body(account), HTTP_IDEMPOTENCY_KEY="k")
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"phone": "+44 12"}, "phone", "invalid_phone"),
        ({"body": ""}, "body", "invalid"),
        ({"body": "{% now %}"}, "body", "invalid"),
        ({"body": "x" * 1601}, "body", "max_length"),
        ({"channel": "fax"}, "channel", "invalid_choice"),
        ({"account": 999999}, "account", "does_not_exist"),
        ({"extra": 1}, "extra", "unknown_field"),
    ],
)
def test_bad_requests_name_the_field(
    marketer: APIClient, account: Account, overrides: dict, field: str, code: str
) -> None:
    response = marketer.post(URL, _body(account) | overrides)
    assert response.status_code == 400
    assert (response.json()["errors"][0]["field"], response.json()["errors"][0]["code"]) == (field, code)
    assert not Message.objects.exists()


def test_an_inactive_account_is_refused(marketer: APIClient) -> None:
    account = AccountFactory(active=False)
    response = marketer.post(URL, _body(account))
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "account"


def test_mms_needs_an_mm4_account_and_keeps_the_subject(marketer: APIClient, account: Account) -> None:
    response = marketer.post(URL, _body(account, channel="mms", subject="Hello"))
    assert response.status_code == 201, response.json()
    campaign = Campaign.objects.get(id=response.json()["campaign"])
    assert (campaign.channel, campaign.mms_subject, response.json()["channel"]) == ("mms", "Hello", "mms")
    no_mm4 = AccountFactory(mm4_host="")
    refused = marketer.post(URL, _body(no_mm4, channel="mms"))
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "account"


def test_template_defaults_are_rendered(marketer: APIClient, account: Account) -> None:
    response = marketer.post(URL, _body(account, body='Hi {{ first_name|default:"there" }}'))
    assert response.json()["body"] == "Hi there"


def _concurrently(requests: list[tuple[APIClient, dict, str]]) -> list:
    """Fire the requests from threads released together; each thread has its own connection."""
    barrier = threading.Barrier(len(requests))
    results: list = [None] * len(requests)

    def run(index: int, client: APIClient, body: dict, key: str) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = client.post(URL, body, HTTP_IDEMPOTENCY_KEY=key)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, *request)) for i, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _client_with_token(token_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_key}")
    return client


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_send_once() -> None:
    account = AccountFactory()
    token = TokenFactory(user=UserFactory(role="marketer"))
    body = _body(account)
    results = _concurrently([(_client_with_token(token.key), body, "same") for _ in range(8)])
    assert [r.status_code for r in results] == [201] * 8
    assert len({r.json()["id"] for r in results}) == 1
    assert Message.objects.count() == 1 and Campaign.objects.count() == 1
    assert sum(1 for r in results if r.headers.get("Idempotent-Replayed")) == 7


@pytest.mark.django_db(transaction=True)
def test_concurrent_same_key_different_bodies_one_wins() -> None:
    account = AccountFactory()
    token = TokenFactory(user=UserFactory(role="marketer"))
    requests = [(_client_with_token(token.key), _body(account, body=f"text {n}"), "contested") for n in range(6)]
    results = _concurrently(requests)
    assert sorted(r.status_code for r in results) == [201] + [409] * 5
    assert Message.objects.count() == 1
