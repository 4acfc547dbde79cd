"""The status rollup the live figures read: kept by the triggers of migration 0016 on every
insert, update and delete of messages, equal to a count of the messages, folded safely."""

from __future__ import annotations

import pytest
from django.db import connection

from campaigns.models import Message, MessageStatusDelta
from campaigns.selectors_live import count_by_status
from campaigns.services.status_counts import compact
from tests.factories import CampaignFactory, MessageFactory

pytestmark = pytest.mark.django_db


def _counted(campaign_id: int) -> dict[str, tuple[int, int]]:
    counts: dict[str, tuple[int, int]] = {}
    for m in Message.objects.filter(campaign_id=campaign_id):
        n, s = counts.get(m.status, (0, 0))
        counts[m.status] = (n + 1, s + m.segments)
    return counts


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the rollup is PostgreSQL's; SQLite counts directly")
def test_the_rollup_follows_inserts_updates_and_deletes() -> None:
    campaign = CampaignFactory()
    Message.objects.bulk_create(
        Message(campaign=campaign, phone=f"+4479111{i:05d}", status="pending", segments=1 + i % 3) for i in range(300)
    )
    assert count_by_status(campaign.id) == _counted(campaign.id) == {"pending": (300, 600)}
    Message.objects.filter(campaign=campaign, id__in=Message.objects.filter(campaign=campaign)[:100]).update(
        status="delivered"
    )
    Message.objects.filter(campaign=campaign, status="pending").update(claim=7)  # no status change: no delta
    first = Message.objects.filter(campaign=campaign, status="pending").first()
    first.status = "failed"
    first.save()
    Message.objects.filter(campaign=campaign, status="delivered")[:1].get().delete()
    assert count_by_status(campaign.id) == _counted(campaign.id)
    rows = MessageStatusDelta.objects.filter(campaign_id=campaign.id).count()
    assert rows <= 8
    assert compact(campaign_id=campaign.id) == 3  # one row per status
    assert count_by_status(campaign.id) == _counted(campaign.id)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the rollup is PostgreSQL's")
def test_many_small_statements_are_folded_when_summed() -> None:
    campaign = CampaignFactory()
    for i in range(60):
        MessageFactory(campaign=campaign, phone=f"+4479113{i:05d}", status="pending")
    from campaigns.services import status_counts

    status_counts.COMPACT_ABOVE, saved = 10, status_counts.COMPACT_ABOVE
    try:
        assert count_by_status(campaign.id) == {"pending": (60, 60)}
    finally:
        status_counts.COMPACT_ABOVE = saved
    assert MessageStatusDelta.objects.filter(campaign_id=campaign.id).count() == 1
    assert count_by_status(campaign.id) == {"pending": (60, 60)}
