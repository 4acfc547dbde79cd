"""End to end: a campaign's every status change reaches a local HTTP receiver, signed, through the
real processes (beat, dispatch worker, bind worker, the webhooks worker) and the SMSC simulator;
a receiver that answers 500 for a while still gets everything afterwards."""

from __future__ import annotations

import collections
import sys
import time
import uuid

import pytest

from campaigns.models import Campaign, CampaignStatus, Contact, DeliveryStatus, Message, WebhookDelivery, WebhookEvent
from campaigns.services import campaign_actions as actions
from campaigns.services import webhooks
from campaigns.services.webhook_outbox import forget_endpoints
from smpp_transport.smsc import SimulatorConfig, SimulatorThread
from tests.e2e.harness import Platform, wait_until
from tests.factories import AccountFactory, RecipientListFactory
from tests.webhooks.receiver import Receiver, verify

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.timeout(600)]

PASSWORD = "e2epass"
RECIPIENTS = 40
FAILING_S = 4.0  # the receiver answers 500 this long after its first request


@pytest.fixture
def queue(settings) -> str:
    name = f"webhooks-{uuid.uuid4().hex[:8]}"
    settings.WEBHOOKS_QUEUE, settings.WEBHOOKS_ALLOW_PRIVATE, settings.WEBHOOKS_ENDPOINTS_CACHE_S = name, True, 0
    forget_endpoints()
    return name


def _campaign(system_id: str, port: int) -> Campaign:
    account = AccountFactory(
        system_id=system_id, smpp_password=PASSWORD, smpp_port=port, binds=1, rate_per_bind=100, source_addr="E2E"
    )
    lst = RecipientListFactory()
    Contact.objects.bulk_create(Contact(recipient_list=lst, phone=f"+4479112{i:05d}") for i in range(RECIPIENTS))
    campaign = Campaign.objects.create(name="hooks", account=account, body="Hello from the webhook test")
    campaign.recipient_lists.add(lst)
    return campaign


def test_every_status_change_arrives_signed_even_after_a_receiver_outage(tmp_path, queue) -> None:
    system_id = f"wh{uuid.uuid4().hex[:10]}"
    config = SimulatorConfig(
        host="127.0.0.1",
        port=0,
        accounts={system_id: PASSWORD},
        rate_per_bind=200.0,
        dlr_delay_s=0.2,
        outcomes={"DELIVRD": 80, "UNDELIV": 20},
        seed=3,
    )
    first: list[float] = []

    def answer(n: int) -> tuple[int, dict[str, str]]:
        first.append(time.monotonic()) if not first else None
        return (500, {}) if time.monotonic() - first[0] < FAILING_S else (200, {})

    env = {
        "WEBHOOKS_QUEUE": queue,
        "WEBHOOKS_ALLOW_PRIVATE": "1",
        "WEBHOOKS_ENDPOINTS_CACHE_S": "0.2",
        "WEBHOOKS_RETRY_BASE_S": "0.3",
        "WEBHOOKS_RETRY_MAX_S": "1.5",
        "WEBHOOKS_BEAT_S": "0.5",
    }
    with SimulatorThread(config) as sim, Receiver(answer=answer) as receiver:
        platform = Platform(tmp_path, extra_env=env)
        try:
            endpoint, secret = webhooks.create_endpoint(
                owner=None, url=receiver.url, events=["message.status", "campaign.status"]
            )
            campaign = _campaign(system_id, sim.port)
            platform.start_dispatch_worker()
            platform.start_bind_worker(system_id, 0)
            platform.start(
                "webhooks",
                [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "-P", "threads", "-c", "2",
                 "-n", f"{queue}@%h", "--without-gossip", "--without-mingle", "-l", "INFO"],
            )  # fmt: skip
            assert sim.wait_for_binds(1, timeout=60), platform.logs()
            platform.start_beat()
            actions.send_now(campaign=campaign)

            def settled() -> bool:
                campaign.refresh_from_db()
                pending = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).exists()
                return campaign.status == CampaignStatus.COMPLETED and not pending

            try:
                wait_until(settled, timeout=240, what="campaign completed and every webhook delivered")
            except TimeoutError as exc:
                pytest.fail(f"{exc}\n{platform.logs()}")
        finally:
            platform.stop()
        received = list(receiver.received)
        outage_answers = receiver.requests_seen - len(received)

    events = {str(e.public_id): e for e in WebhookEvent.objects.all()}
    got = collections.Counter(r.headers["X-Webhook-Id"] for r in received)
    assert set(got) == set(events)  # nothing lost, nothing invented
    assert outage_answers > 0  # the outage happened and was ridden out
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    for r in received:
        assert verify(secret, r.headers, r.body), r.headers
        assert r.json["id"] == r.headers["X-Webhook-Id"]
    by_message: dict[int, list[str]] = collections.defaultdict(list)
    for r in sorted(received, key=lambda r: r.json["created"]):
        if r.json["type"] == "message.status":
            by_message[r.json["message"]["id"]].append(r.json["message"]["status"])
    messages = dict(Message.objects.filter(campaign=campaign).values_list("id", "status"))
    assert set(by_message) == set(messages)
    for message_id, final in messages.items():
        seen = list(dict.fromkeys(by_message[message_id]))  # a redelivered duplicate counts once
        assert seen[0] == "queued" and "accepted" in seen and seen[-1] == final, (message_id, seen)
    campaign_statuses = [r.json["campaign"]["status"] for r in received if r.json["type"] == "campaign.status"]
    assert {"running", "completed"} <= set(campaign_statuses)
    assert endpoint.id == WebhookDelivery.objects.values_list("endpoint_id", flat=True).distinct().get()
