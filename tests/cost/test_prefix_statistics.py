"""Migration 0021's expression statistics: PostgreSQL knows how few number prefixes a
campaign's messages have, so the cost's and the breakdown's GROUP BY are planned for a few
groups, not one per message (which sized a hash table for a million and ruled out a
parallel partial aggregate on a big campaign)."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def _planned_groups(sql: str, params: list) -> float:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        raw = cursor.fetchone()[0]
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    return plan["Plan Rows"]


def test_the_prefix_groups_are_estimated_from_statistics() -> None:
    campaign = CampaignFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO campaigns_message (campaign_id, phone, body, status, reason, segments, recipient_tz, "
            "attempts, created_at, updated_at) SELECT %s, '+447' || lpad(g::text, 9, '0'), 'Hi', 'delivered', '', "
            "1, '', 0, now(), now() FROM generate_series(100000000, 100004999) g",
            [campaign.pk],
        )
        cursor.execute("ANALYZE campaigns_message")
    where = "FROM campaigns_message WHERE campaign_id = %s"
    cost = _planned_groups(f"SELECT MIN(phone), SUM(segments) {where} GROUP BY LEFT(phone, 7)", [campaign.pk])
    breakdown = _planned_groups(f"SELECT MIN(phone), COUNT(*) {where} GROUP BY SUBSTR(phone, 1, 8)", [campaign.pk])
    # 5,000 distinct numbers in one 7-character prefix (and 1 of 8): without the statistics
    # the planner expects about 5,000 groups.
    assert cost < 50 and breakdown < 50, (cost, breakdown)
