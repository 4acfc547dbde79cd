"""Delivery to a real local HTTP receiver: signed, retried on 5xx/429/timeouts, not on 4xx, SSRF-checked."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from campaigns.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from campaigns.services import status
from campaigns.services.webhook_delivery import deliver_due, redeliver
from campaigns.services.webhook_http import UnsafeDestination, check_url
from campaigns.statuses import MessageStatus as S
from tests.factories import MessageFactory, MessagePartFactory
from tests.webhooks.receiver import Receiver, verify

pytestmark = pytest.mark.django_db

SECRET = "whsec_test_0123456789"


def _endpoint(url: str) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(url=url, secret=SECRET)


def _deliver_until(predicate, *, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "deliveries did not finish in time"
        deliver_due(budget_s=5)


def test_each_status_change_arrives_signed_with_the_documented_body() -> None:
    with Receiver() as receiver:
        _endpoint(receiver.url)
        message = MessageFactory(status=S.PENDING, phone="+447911000123")
        MessagePartFactory(
            message=message, account=message.campaign.account, status=S.DELIVERED, provider_message_id="abc"
        )
        status.advance_messages([message.id], S.QUEUED)
        status.roll_up_messages([message.id])
        assert deliver_due() == 2
        assert [r.json["message"]["status"] for r in sorted(receiver.received, key=lambda r: r.json["created"])] == [
            "queued",
            "delivered",
        ]
        for got in receiver.received:
            assert verify(SECRET, got.headers, got.body)
            assert not verify("another secret", got.headers, got.body)
            assert got.headers["X-Webhook-Id"] == got.json["id"] and got.json["type"] == "message.status"
            assert SECRET not in got.body.decode()
        body = next(r.json for r in receiver.received if r.json["message"]["status"] == "delivered")
        assert set(body) == {"id", "type", "created", "message"}
        assert body["message"] == {
            "id": message.id,
            "campaign": message.campaign_id,
            "phone": "+447911000123",
            "status": "delivered",
            "reason": "",
            "segments": 1,
            "api_send": False,
            "provider_ids": ["abc"],
        }
    assert set(WebhookDelivery.objects.values_list("status", "attempts", "last_status_code")) == {
        (DeliveryStatus.DELIVERED, 1, 200)
    }
    assert deliver_due() == 0  # nothing twice


def test_a_receiver_answering_500_for_a_while_gets_everything_afterwards(settings) -> None:
    settings.WEBHOOKS_RETRY_BASE_S, settings.WEBHOOKS_RETRY_MAX_S = 0.05, 0.2
    with Receiver(answer=lambda n: (500, {}) if n < 25 else (200, {})) as receiver:
        _endpoint(receiver.url)
        ids = [MessageFactory(status=S.PENDING).id for _ in range(10)]
        status.advance_messages(ids, S.QUEUED)
        status.advance_messages(ids, S.ACCEPTED)
        _deliver_until(lambda: not WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).exists())
        got = {(r.json["message"]["id"], r.json["message"]["status"]) for r in receiver.received}
        assert got == {(i, s) for i in ids for s in ("queued", "accepted")}
        assert receiver.requests_seen >= 25 + 20
    retried = WebhookDelivery.objects.filter(attempts__gt=1)
    assert retried.exists() and not WebhookDelivery.objects.exclude(status=DeliveryStatus.DELIVERED).exists()


def test_4xx_is_not_retried_and_redeliver_sends_it_again() -> None:
    with Receiver(answer=lambda n: (410, {}) if n == 0 else (200, {})) as receiver:
        _endpoint(receiver.url)
        status.advance_messages([MessageFactory(status=S.PENDING).id], S.QUEUED)
        deliver_due()
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 1, 410)
        assert deliver_due() == 0 and receiver.requests_seen == 1
        redeliver([delivery.id])
        assert deliver_due() == 1 and len(receiver.received) == 1
    assert WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED


def test_429_honours_retry_after() -> None:
    with Receiver(answer=lambda n: (429, {"Retry-After": "120"})) as receiver:
        _endpoint(receiver.url)
        status.advance_messages([MessageFactory(status=S.PENDING).id], S.QUEUED)
        before = timezone.now()
        deliver_due()
        assert receiver.requests_seen == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.last_status_code == 429
    assert 119 <= (delivery.next_attempt_at - before).total_seconds() <= 125


def test_timeouts_and_connection_errors_are_retried_then_given_up(settings) -> None:
    settings.WEBHOOKS_RETRY_FOR_S = 0  # the retry window is already over: the first failure gives up
    with Receiver() as receiver:
        url = receiver.url
    _endpoint(url)  # the receiver is gone: connection refused
    status.advance_messages([MessageFactory(status=S.PENDING).id], S.QUEUED)
    deliver_due()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.GAVE_UP and "ConnectionError" in delivery.last_error


def test_an_endpoint_failing_for_too_long_is_disabled_with_its_reason(settings) -> None:
    settings.WEBHOOKS_DISABLE_AFTER_S = 0
    with Receiver(answer=lambda n: (503, {})) as receiver:
        endpoint = _endpoint(receiver.url)
        status.advance_messages([MessageFactory(status=S.PENDING).id], S.QUEUED)
        deliver_due()
    endpoint.refresh_from_db()
    assert not endpoint.active and "every delivery failed since" in endpoint.disabled_reason
    assert "HTTP 503" in endpoint.disabled_reason
    status.advance_messages([MessageFactory(status=S.PENDING).id], S.QUEUED)
    assert WebhookDelivery.objects.count() == 1  # an inactive endpoint gets no new deliveries


def test_ssrf_private_destinations_are_refused_at_save_and_at_connect(settings) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    for url in (
        "http://127.0.0.1/x",
        "http://localhost:8000/x",
        "http://169.254.169.254/latest/meta-data",
        "http://10.1.2.3/x",
        "http://192.168.0.1/x",
        "http://[::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://0.0.0.0/x",
        "ftp://example.com/x",
        "http://user:pw@example.com/x",
    ):
        with pytest.raises(UnsafeDestination):
            check_url(url)
    with Receiver() as receiver:
        _endpoint(receiver.url)  # stored before the setting changed (or straight into the table)
        status.advance_messages([MessageFactory(status=S.PENDING).id], S.QUEUED)
        deliver_due()
        assert receiver.requests_seen == 0
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and "loopback" in delivery.last_error


def test_a_callback_is_signed_with_its_signing_endpoints_secret() -> None:
    with Receiver() as receiver:
        default = _endpoint("http://127.0.0.1:9/never-used")
        default.active = False  # its own events are not wanted here, its secret still signs
        default.save()
        message = MessageFactory(status=S.PENDING)
        from campaigns.services.webhooks import add_callback

        add_callback(campaign_id=message.campaign_id, url=receiver.url, signed_by=default)
        status.advance_messages([message.id], S.QUEUED)
        assert deliver_due() == 1
        (got,) = receiver.received
        assert verify(SECRET, got.headers, got.body) and got.json["message"]["id"] == message.id
        callback = WebhookEndpoint.objects.get(signed_by=default)
        assert callback.active  # not final yet
        status.advance_messages([message.id], S.DELIVERED)
        assert deliver_due() == 1
        callback.refresh_from_db()
        assert not callback.active and callback.disabled_reason.startswith("Done")  # retired once final
