"""message.clicked: a click on a tracked link emits its event with the click, in one transaction."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from campaigns.models import Click, ShortCode, WebhookDelivery, WebhookEndpoint, WebhookEvent
from campaigns.services.links import track_bodies
from campaigns.services.webhook_delivery import body_of, claim_due
from campaigns.services.webhook_outbox import forget_endpoints
from tests.factories import CampaignFactory, MessageFactory
from tests.wsgi_client import wsgi_request

pytestmark = pytest.mark.django_db


def _code(body: str = "Go https://shop.example.com/a?b=1") -> ShortCode:
    campaign = CampaignFactory(body=body, track_links=True)
    message = MessageFactory(campaign=campaign, phone="+447911100002")
    track_bodies(campaign=campaign, bodies=[(message.id, body)], now=timezone.now())
    return ShortCode.objects.get(message=message)


def _endpoint(events: list[str]) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.create(url="http://127.0.0.1:9/hook", secret="s3cret-s3cret-s3", events=events)
    forget_endpoints()
    return endpoint


def test_a_click_emits_message_clicked_to_an_endpoint_that_wants_it() -> None:
    wants = _endpoint(["message.clicked"])
    _endpoint(["message.status"])  # does not want clicks
    code = _code()
    response = wsgi_request(f"/r/{code.code}", HTTP_USER_AGENT="Mozilla/5.0 (iPhone) Mobile")
    assert response.status_code == 302 and Click.objects.count() == 1
    event = WebhookEvent.objects.get(type="message.clicked")
    assert event.payload["id"] == code.message_id
    assert event.payload["url"] == "https://shop.example.com/a?b=1"
    assert event.payload["agent"] == "mobile"
    assert list(WebhookDelivery.objects.values_list("endpoint_id", flat=True)) == [wants.id]
    [job] = claim_due(limit=10, now=timezone.now())
    body = json.loads(body_of(job))
    assert body["type"] == "message.clicked" and body["message"]["phone"] == "+447911100002"


def test_no_endpoint_for_clicks_no_event_and_unknown_codes_emit_nothing() -> None:
    _endpoint(["message.status", "campaign.status"])
    code = _code()
    assert wsgi_request(f"/r/{code.code}").status_code == 302
    assert wsgi_request("/r/ZZZZZZZZ").status_code == 404
    assert Click.objects.count() == 1
    assert not WebhookEvent.objects.filter(type="message.clicked").exists()
