"""The admin's webhook pages: the secret is shown once and never rendered; deliveries can be redelivered."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from campaigns.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent

pytestmark = pytest.mark.django_db
ADD = "/admin/campaigns/webhookendpoint/add/"


@pytest.fixture(autouse=True)
def _local_receivers_allowed(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True


def test_adding_an_endpoint_shows_its_secret_once_and_never_renders_it(operator_client: Client) -> None:
    data = {"url": "http://127.0.0.1:9/in", "events": ["message.status"], "active": "on", "secret": ""}
    answer = operator_client.post(ADD, data, follow=True)
    assert answer.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret.startswith("whsec_") and endpoint.secret in answer.content.decode()  # the one time
    page = operator_client.get(f"/admin/campaigns/webhookendpoint/{endpoint.id}/change/")
    assert page.status_code == 200 and endpoint.secret not in page.content.decode()
    kept = operator_client.post(
        f"/admin/campaigns/webhookendpoint/{endpoint.id}/change/",
        {"url": "http://127.0.0.1:9/moved", "events": ["campaign.status"], "active": "on", "secret": ""},
    )
    assert kept.status_code == 302
    again = WebhookEndpoint.objects.get()
    assert again.secret == endpoint.secret and again.url.endswith("/moved")  # blank keeps the secret


def test_private_urls_are_refused_in_the_form(operator_client: Client, settings) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    answer = operator_client.post(ADD, {"url": "http://169.254.169.254/", "events": ["message.status"]})
    assert answer.status_code == 200 and "link-local" in answer.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_the_delivery_log_and_redeliver(operator_client: Client) -> None:
    endpoint = WebhookEndpoint.objects.create(url="http://127.0.0.1:9/", secret="s" * 20)
    event = WebhookEvent.objects.create(type="message.status", payload={"id": 1, "status": "delivered"})
    delivery = WebhookDelivery.objects.create(
        event=event,
        endpoint=endpoint,
        next_attempt_at=timezone.now(),
        status="failed",
        attempts=1,
        last_error="HTTP 410",
    )
    page = operator_client.get("/admin/campaigns/webhookdelivery/")
    assert page.status_code == 200 and "HTTP 410" in page.content.decode()
    answer = operator_client.post(
        "/admin/campaigns/webhookdelivery/", {"action": "redeliver_selected", "_selected_action": [delivery.id]}
    )
    assert answer.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.last_error == ""
