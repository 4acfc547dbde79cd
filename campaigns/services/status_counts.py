"""Folding a campaign's status deltas (``MessageStatusDelta``) into one row per status.

The trigger appends a few rows per statement that moves messages, so a campaign of a
million collects thousands; summing them stays cheap, but not forever. ``compact`` replaces
a campaign's rows by their sums in one transaction: ``DELETE … RETURNING`` takes exactly
the rows it folds, so a delta a sender appends meanwhile is neither lost nor counted twice,
and two compactions at once each fold only the rows they deleted.
"""

from __future__ import annotations

from django.db import connection, transaction

from campaigns.models import MessageStatusDelta

#: Fold when a campaign has more rows than this (the live figures check on each count).
COMPACT_ABOVE = 2000


def compact(*, campaign_id: int) -> int:
    """Fold the campaign's deltas; returns how many rows were folded (0 on SQLite: no deltas)."""
    if connection.vendor != "postgresql":
        return 0
    table = connection.ops.quote_name(MessageStatusDelta._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"WITH gone AS (DELETE FROM {table} WHERE campaign_id = %s RETURNING status, messages, segments) "
            f"INSERT INTO {table} (campaign_id, status, messages, segments) "
            f"SELECT %s, status, SUM(messages), SUM(segments) FROM gone GROUP BY status "
            f"HAVING SUM(messages) <> 0 OR SUM(segments) <> 0",
            [campaign_id, campaign_id],
        )
        cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE campaign_id = %s", [campaign_id])
        (remaining,) = cursor.fetchone()
        return remaining
