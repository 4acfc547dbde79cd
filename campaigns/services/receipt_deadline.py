"""Receipts that never come: past the deadline, an accepted part becomes "unknown".

Providers send no receipt for a few percent of messages. Without a deadline those parts
stay ``accepted`` forever and their campaign never completes. Every tick,
:func:`settle_overdue_parts` gives each part that has waited longer than its deadline the
status ``unknown`` and the reason "no delivery receipt within 48 h" (its message too, by the
usual roll-up), so the campaign completes once nothing else is owed. A receipt that still
comes later applies as any other (``unknown`` ranks below every final status) and clears the
words.

The deadline is ``RECEIPT_DEADLINE_S``; a campaign's validity period, when shorter, wins,
plus ``RECEIPT_DEADLINE_GRACE_S``: once the validity runs out the network stops trying, but
the provider still needs a moment to notice and send its own EXPIRED receipt, which is the
truer answer and must get the chance to arrive first.

Cost: the due messages are found through the partial index ``message_awaiting_receipt_idx``
(campaign, submitted_at) WHERE status = 'accepted': one index descent per campaign that may
still owe receipts, so when nothing is due a read of the campaigns and those probes are all
it costs. Their parts are then settled by one ``UPDATE … FROM`` (never a statement per
part), up to ``SETTLE_BATCH`` messages a tick. The clock is the message's ``submitted_at``
(when its last part was accepted), so no part is settled before its full deadline.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from campaigns.models import Campaign, Message
from campaigns.services import status
from campaigns.services.bulk_sql import member_of, quoted_table
from campaigns.statuses import DEADLINE_REASON_PREFIX, C, S

# A cancelled campaign keeps the parts it had sent before the cancel waiting for receipts,
# so it is looked at until every one of them is surely past its deadline (a day's slack
# covers the batch in flight at the cancel and a tick that stopped for a while).
CANCELLED_LOOKBACK = timedelta(days=1)
# Messages settled per tick at most: a backlog (a deadline just shortened, a tick that was
# stopped) is worked off a tick at a time, so no tick holds up dispatch for long.
SETTLE_BATCH = 1000


def receipt_deadline() -> timedelta:
    return timedelta(seconds=settings.RECEIPT_DEADLINE_S)


def receipt_deadline_grace() -> timedelta:
    return timedelta(seconds=settings.RECEIPT_DEADLINE_GRACE_S)


def effective_deadline(validity_period: timedelta | None) -> timedelta:
    """How long a part of a campaign with this validity period waits for its receipt."""
    deadline = receipt_deadline()
    if validity_period is None:
        return deadline
    return min(deadline, max(validity_period, timedelta(0)) + receipt_deadline_grace())


def duration_words(span: timedelta) -> str:
    """A duration as a marketer reads it: "48 h", "1 h 10 min", "2 min", "45 s"."""
    seconds = max(0, int(span.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    words = [f"{n} {unit}" for n, unit in ((hours, "h"), (minutes, "min"), (secs, "s")) if n]
    return " ".join(words) or "0 s"


def deadline_reason(deadline: timedelta) -> str:
    """The reason an overdue part and its message are given."""
    return f"{DEADLINE_REASON_PREFIX} {duration_words(deadline)}"


def _owing_campaigns(now: datetime) -> list[tuple[int, timedelta | None]]:
    """(id, validity period) of the campaigns that may have parts waiting for a receipt:
    running and paused ones, and recently cancelled ones (completed ones owe nothing)."""
    recent = now - receipt_deadline() - CANCELLED_LOOKBACK
    return list(
        Campaign.objects.filter(
            Q(status__in=[C.RUNNING, C.PAUSED]) | Q(status=C.CANCELLED, completed_at__gte=recent)
        ).values_list("id", "validity_period")
    )


def due_query(campaigns: list[tuple[int, timedelta | None]], now: datetime) -> tuple[str, list, dict[int, str]]:
    """SQL for (message id, campaign id) of up to ``SETTLE_BATCH`` due messages, and each
    campaign's reason. The campaigns are grouped by deadline (nearly always one group), each
    group ``campaign_id = ANY(…) AND submitted_at < cutoff``: both columns of the partial
    index, so it is one index descent per campaign whatever the planner's statistics say."""
    groups: dict[timedelta, list[int]] = defaultdict(list)
    for campaign_id, validity in campaigns:
        groups[effective_deadline(validity)].append(campaign_id)
    clauses, params = [], []
    for deadline, ids in groups.items():
        member_sql, member_params = member_of("m.campaign_id", ids)
        clauses.append(f"({member_sql} AND m.submitted_at < %s)")
        params += [*member_params, connection.ops.adapt_datetimefield_value(now - deadline)]
    sql = (
        f"SELECT m.id, m.campaign_id FROM {quoted_table(Message)} m "
        f"WHERE m.status = %s AND ({' OR '.join(clauses)}) LIMIT %s"
    )
    reasons = {cid: deadline_reason(deadline) for deadline, ids in groups.items() for cid in ids}
    return sql, [S.ACCEPTED, *params, SETTLE_BATCH], reasons


def _due_messages(campaigns: list[tuple[int, timedelta | None]], now: datetime) -> list[tuple[int, str]]:
    """(message id, reason) of up to ``SETTLE_BATCH`` due messages."""
    sql, params, reasons = due_query(campaigns, now)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(message_id, reasons[campaign_id]) for message_id, campaign_id in cursor.fetchall()]


def settle_overdue_parts(*, now: datetime | None = None) -> int:
    """Parts past their receipt deadline become "unknown" with the reason; their messages
    roll up. Returns how many parts were settled.

    A read of the due messages (the index probes; when it finds none, that is all), then one
    UPDATE … FROM for every "accepted" part of those messages, then their roll-up (both
    :func:`.status.settle_unanswered`). A message
    whose parts were all settled but whose roll-up a concurrent receipt raced is still
    "accepted" and due, so the next tick rolls it up again. Idempotent: a settled part is no
    longer "accepted", a rolled-up message no longer in the index.
    """
    now = now or timezone.now()
    campaigns = _owing_campaigns(now)
    if not campaigns:
        return 0
    with transaction.atomic():
        due = _due_messages(campaigns, now)
        if not due:
            return 0
        return status.settle_unanswered(due, now=now)
