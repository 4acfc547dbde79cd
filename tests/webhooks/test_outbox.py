"""The outbox is written by the status change itself: same transaction, one statement per write."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.models import Message, WebhookDelivery, WebhookEndpoint, WebhookEvent
from campaigns.services import status
from campaigns.statuses import CampaignStatus as C
from campaigns.statuses import MessageStatus as S
from tests.factories import CampaignFactory, MessageFactory, MessagePartFactory

pytestmark = pytest.mark.django_db


def _endpoint(**fields) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(url="http://127.0.0.1:9/hook", secret="s3cret", **fields)


def _events(kind: str = "message.status") -> list[dict]:
    return [e.payload for e in WebhookEvent.objects.filter(type=kind).order_by("id")]


def test_no_endpoint_no_event_and_no_extra_statement(settings) -> None:
    settings.WEBHOOKS_ENDPOINTS_CACHE_S = 60
    messages = [MessageFactory(status=S.PENDING) for _ in range(3)]
    status.advance_messages([m.id for m in messages], S.QUEUED)  # warms the cache: one EXISTS
    with CaptureQueriesContext(connection) as queries:
        status.advance_messages([m.id for m in messages], S.ACCEPTED)
    assert len(queries) == 1  # the UPDATE alone
    assert not WebhookEvent.objects.exists()


def test_every_message_status_write_emits_one_event_per_moved_row_in_one_statement(settings) -> None:
    hook = _endpoint()
    settings.WEBHOOKS_ENDPOINTS_CACHE_S = 60  # the EXISTS once, then cached
    campaign = CampaignFactory()
    messages = [MessageFactory(campaign=campaign, status=S.PENDING, phone=f"+44791100000{i}") for i in range(5)]
    ids = [m.id for m in messages]
    claimed = status.claim_pending(campaign_id=campaign.id, limit=10, claim=7, now=timezone.now())
    assert claimed == ids
    assert {e["status"] for e in _events()} == {S.QUEUED} and len(_events()) == 5
    status.back_to_pending(Message.objects.filter(id__in=ids[:2]), now=timezone.now())
    for m in messages[2:]:
        MessagePartFactory(message=m, account=campaign.account, status=S.DELIVERED, provider_message_id=f"p{m.id}")
    with CaptureQueriesContext(connection) as queries:
        moved = status.roll_up_messages(ids[2:])
    assert moved == {S.DELIVERED: ids[2:]}
    assert len(queries) == 3  # read the parts, UPDATE, the outbox's INSERT … SELECT
    status.cancel_unsent(Message.objects.filter(campaign=campaign), reason="cancelled", now=timezone.now())
    events = _events()
    assert [e["status"] for e in events] == [S.QUEUED] * 5 + [S.PENDING] * 2 + [S.DELIVERED] * 3 + [S.CANCELLED] * 2
    delivered = next(e for e in events if e["id"] == ids[2] and e["status"] == S.DELIVERED)
    assert delivered == {
        "id": ids[2],
        "campaign": campaign.id,
        "phone": "+447911000002",
        "status": "delivered",
        "reason": "",
        "segments": 1,
        "api_send": False,
        "provider_ids": [f"p{ids[2]}"],
    }
    assert WebhookDelivery.objects.filter(endpoint=hook, status="pending").count() == len(events)
    status.roll_up_messages(ids[2:])  # nothing moves: nothing is emitted
    assert len(_events()) == len(events)


def test_campaign_moves_emit_campaign_status() -> None:
    _endpoint(events=["campaign.status"])
    campaign = CampaignFactory(status=C.DRAFT)
    assert status.move_campaign(campaign.id, C.RUNNING, only_from=[C.DRAFT]) == 1
    assert status.move_campaign(campaign.id, C.RUNNING, only_from=[C.DRAFT]) == 0  # no move, no event
    status.advance_messages([MessageFactory(campaign=campaign).id], S.QUEUED)  # not wanted by this endpoint
    assert [(e["id"], e["status"]) for e in _events("campaign.status")] == [(campaign.id, "running")]
    assert not _events("message.status")


def test_filters_by_campaign_api_sends_and_active() -> None:
    wanted, other, api = CampaignFactory(), CampaignFactory(), CampaignFactory(is_single_send=True)
    by_campaign = _endpoint(campaign=wanted)
    api_only = _endpoint(api_sends_only=True)
    _endpoint(active=False)
    ids = [MessageFactory(campaign=c).id for c in (wanted, other, api)]
    status.advance_messages(ids, S.QUEUED)
    assert len(_events()) == 2  # the message of "other" has no endpoint that wants it
    got = {(d.endpoint_id, d.event.payload["campaign"]) for d in WebhookDelivery.objects.select_related("event")}
    assert got == {(by_campaign.id, wanted.id), (api_only.id, api.id)}


def test_a_rolled_back_change_writes_no_event() -> None:
    _endpoint()
    message = MessageFactory(status=S.PENDING)
    with pytest.raises(RuntimeError), transaction.atomic():
        status.advance_messages([message.id], S.QUEUED)
        assert WebhookEvent.objects.count() == 1  # written with the change…
        raise RuntimeError("the caller fails after the status write")
    assert not WebhookEvent.objects.exists() and not WebhookDelivery.objects.exists()  # …and rolled back with it
    assert Message.objects.get(id=message.id).status == S.PENDING
