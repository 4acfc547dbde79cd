"""/api/v1/webhooks/: the secret is shown once (create, rotate-secret), never read back; SSRF refused."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from campaigns.models import Message, WebhookDelivery, WebhookEndpoint, WebhookEvent
from campaigns.services.webhook_outbox import forget_endpoints

pytestmark = pytest.mark.django_db
URL = "/api/v1/webhooks/"


@pytest.fixture(autouse=True)
def _local_receivers_allowed(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    forget_endpoints()


def test_create_shows_the_secret_once_then_it_is_write_only(operator: APIClient) -> None:
    made = operator.post(URL, {"url": "http://127.0.0.1:9/in", "events": ["message.status"]})
    assert made.status_code == 201, made.json()
    body = made.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 30
    endpoint = WebhookEndpoint.objects.get(id=body["id"])
    assert endpoint.secret == body["secret"] and endpoint.owner == operator.user
    for answer in (operator.get(f"{URL}{body['id']}/"), operator.get(URL)):
        assert "secret" not in (answer.json().get("results") or [answer.json()])[0]
        assert body["secret"] not in answer.content.decode()
    changed = operator.patch(f"{URL}{body['id']}/", {"secret": "x" * 20})
    assert changed.status_code == 400  # rotate instead
    rotated = operator.post(f"{URL}{body['id']}/rotate-secret/")
    assert rotated.status_code == 200 and rotated.json()["secret"] != body["secret"]
    endpoint.refresh_from_db()
    assert endpoint.secret == rotated.json()["secret"]


def test_a_caller_may_bring_its_own_secret(operator: APIClient) -> None:
    made = operator.post(URL, {"url": "http://127.0.0.1:9/in", "events": ["campaign.status"], "secret": "s" * 24})
    assert made.status_code == 201 and made.json()["secret"] == "s" * 24


def test_private_destinations_are_refused_unless_allowed(operator: APIClient, settings) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    for url in ("http://127.0.0.1:8000/x", "http://169.254.169.254/", "http://10.0.0.1/"):
        answer = operator.post(URL, {"url": url, "events": ["message.status"]})
        assert answer.status_code == 400, url
        assert answer.json()["errors"][0]["field"] == "url"
    assert not WebhookEndpoint.objects.exists()


def test_bad_events_are_refused_and_reenabling_clears_the_reason(operator: APIClient) -> None:
    assert operator.post(URL, {"url": "http://127.0.0.1:9/", "events": ["sms.sent"]}).status_code == 400
    assert operator.post(URL, {"url": "http://127.0.0.1:9/", "events": []}).status_code == 400
    endpoint = WebhookEndpoint.objects.create(url="http://127.0.0.1:9/", secret="s" * 20, active=False)
    WebhookEndpoint.objects.filter(id=endpoint.id).update(disabled_reason="every delivery failed since …")
    answer = operator.patch(f"{URL}{endpoint.id}/", {"active": True})
    assert answer.status_code == 200 and answer.json()["disabled_reason"] == ""


def test_deliveries_of_an_endpoint(operator: APIClient) -> None:
    endpoint = WebhookEndpoint.objects.create(url="http://127.0.0.1:9/", secret="s" * 20)
    other = WebhookEndpoint.objects.create(url="http://127.0.0.1:9/other", secret="s" * 20)
    event = WebhookEvent.objects.create(type="message.status", payload={"id": 1})

    WebhookDelivery.objects.create(event=event, endpoint=endpoint, next_attempt_at=timezone.now(), attempts=3)
    WebhookDelivery.objects.create(event=event, endpoint=other, next_attempt_at=timezone.now())
    answer = operator.get(f"{URL}{endpoint.id}/deliveries/")
    assert answer.status_code == 200
    results = answer.json()["results"]
    assert [(r["event_id"], r["attempts"], r["status"]) for r in results] == [(str(event.public_id), 3, "pending")]
    assert operator.get(f"{URL}{endpoint.id}/deliveries/?status=nope").status_code == 400


def test_marketers_and_viewers_cannot_see_webhooks(marketer: APIClient, viewer: APIClient) -> None:
    assert marketer.get(URL).status_code == 403 and viewer.get(URL).status_code == 403


def test_callback_url_of_a_send_is_signed_with_the_callers_default_endpoint(operator: APIClient, account) -> None:
    from django.contrib.auth.models import Permission

    operator.user.user_permissions.add(*Permission.objects.filter(codename__in=["add_campaign", "send_campaign"]))
    send = {"account": account.id, "phone": "+447911000777", "body": "hi", "callback_url": "http://127.0.0.1:9/cb"}
    refused = operator.post("/api/v1/send/", send)
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "callback_url"  # no endpoint yet
    assert not Message.objects.exists()  # refused before anything was made
    default = operator.post(URL, {"url": "http://127.0.0.1:9/all", "events": ["campaign.status"]}).json()
    sent = operator.post("/api/v1/send/", send, HTTP_IDEMPOTENCY_KEY="k-1")
    assert sent.status_code == 201, sent.json()
    callback = WebhookEndpoint.objects.get(signed_by_id=default["id"])
    message = Message.objects.get(id=sent.json()["id"])
    assert (callback.url, callback.campaign_id, callback.events) == (
        "http://127.0.0.1:9/cb",
        message.campaign_id,
        ["message.status"],
    )
    assert callback.signing_secret == default["secret"]
    assert operator.post("/api/v1/send/", send, HTTP_IDEMPOTENCY_KEY="k-1").status_code == 201  # replayed
    assert WebhookEndpoint.objects.filter(signed_by_id=default["id"]).count() == 1
    assert [e["id"] for e in operator.get(URL).json()["results"]] == [default["id"]]  # callbacks are not listed
