"""When a batch's worker is gone: take the batch over and settle what it had on the wire.

Two callers: a redelivered batch takes over its own earlier attempt at once (in
``begin_submit``), and the sweeper (:func:`recover_abandoned`, every tick) takes over
batches silent for ``SUBMITTING_STALL_S`` and releases messages queued for longer than
``QUEUED_STALL_S`` that no live batch holds. Taking over deletes the batch's row: a worker
that is in fact still alive finds its row gone before its next chunk and stops, so no part
is ever sent by two workers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection, transaction

from campaigns.models import BatchInFlight, Campaign, CampaignStatus, Message
from campaigns.services import status
from campaigns.services.bulk_sql import member_of, quoted_table
from campaigns.services.status import PartRow
from campaigns.statuses import S

logger = logging.getLogger(__name__)

SWEEP_LOCK = 0x5EB7_0D15  # PostgreSQL advisory lock key shared by batch starts and the sweeper


def hold_off_sweeper(*, exclusive: bool) -> None:
    """Serialise batch starts (shared) with the sweeper (exclusive), until commit.

    A batch start reads its queued messages and then writes its BatchInFlight row; the
    sweeper releases queued messages that no batch holds. Without this lock the sweeper
    could release a message between those two steps, and it would be sent twice. On
    SQLite every transaction is IMMEDIATE (see settings), which serialises them anyway.
    """
    if connection.vendor == "postgresql":
        function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {function}(%s)", [SWEEP_LOCK])


def take_over(batch_ids: Sequence[int], *, now: datetime, silent_since: datetime | None = None) -> int:
    """Delete these batches' rows (only those still silent since ``silent_since``, if given)
    and settle the parts they had on the wire; returns how many were taken over.

    An on-wire part may or may not have reached the SMSC: by SUBMIT_AMBIGUOUS_POLICY it is
    stored as "unknown" (default: never a duplicate), or its message stays queued and is
    sent again ("resend": never a loss). Nothing else of the batch was sent.
    """
    if not batch_ids:
        return 0
    ids_sql, params = member_of("id", batch_ids)
    where = ids_sql + (" AND heartbeat_at < %s" if silent_since else "")
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {quoted_table(BatchInFlight)} WHERE {where} RETURNING id, account_id, on_wire",
            [*params, *([silent_since] if silent_since else [])],
        )
        taken = [_TakenBatch(*row) for row in cursor.fetchall()]
    ambiguous = [
        PartRow(
            message_id=entry.message_id,
            account_id=batch.account_id,
            index=entry.index,
            status=S.UNKNOWN,
            local_message_id=entry.local_message_id,
            error="worker stopped before the SMSC answered",
            submitted_at=now,
        )
        for batch in taken
        for entry in _on_wire_entries(batch.on_wire)
    ]
    if ambiguous:
        if settings.SUBMIT_AMBIGUOUS_POLICY == "resend":
            logger.warning("%d parts of a lost batch will be sent again (resend policy)", len(ambiguous))
        else:
            logger.warning("%d parts on the wire when their worker stopped marked unknown", len(ambiguous))
            queued = set(
                Message.objects.filter(id__any=[p.message_id for p in ambiguous], status=S.QUEUED).values_list(
                    "id", flat=True
                )
            )
            rows = [p for p in ambiguous if p.message_id in queued]
            status.write_parts(rows, now)
            status.roll_up_answered([], {p.message_id: None for p in rows}, now=now)
    return len(taken)


class _TakenBatch(NamedTuple):
    id: int
    account_id: int
    on_wire: Any  # JSON: a list on PostgreSQL, its text on SQLite


class _OnWire(NamedTuple):
    message_id: int
    index: int
    local_message_id: str | None


def _on_wire_entries(on_wire: Any) -> list[_OnWire]:
    """A batch's on-wire entries (submit.mark_on_wire): [message_id, index], or [message_id,
    index, local id] for MMS, whose id went out with the message so its report can still
    settle the "unknown" part."""
    entries = json.loads(on_wire) if isinstance(on_wire, str) else on_wire
    return [_OnWire(entry[0], entry[1], entry[2] if len(entry) > 2 else None) for entry in entries]


def release_messages(message_ids: Sequence[int], *, now: datetime) -> None:
    """Queued messages a batch will not send: back to pending (campaign paused, or the
    transport stopped), or cancelled with their campaign."""
    if not message_ids:
        return
    rows = Message.objects.filter(id__any=list(message_ids), status=S.QUEUED).values_list("id", "campaign__status")
    cancelled = [mid for mid, campaign_status in rows if campaign_status == CampaignStatus.CANCELLED]
    back = [mid for mid, campaign_status in rows if campaign_status != CampaignStatus.CANCELLED]
    if back:
        status.back_to_pending(Message.objects.filter(id__any=back), now=now)
    if cancelled:
        status.cancel_pending_parts(cancelled, now=now)
        status.advance_messages(cancelled, S.CANCELLED, reason="campaign cancelled")


def recover_abandoned(*, now: datetime) -> tuple[int, int]:
    """The sweeper: (messages released, batches taken over).

    A batch can vanish (a broker without redelivery, a purged queue, a worker killed with
    no redelivery): its messages, queued for longer than QUEUED_STALL_S and held by no live
    batch, go back to pending with their claim cleared (a stale batch then skips them). A
    batch silent for SUBMITTING_STALL_S (keep it above SMPP_BATCH_TIMEOUT_S) is taken over.
    """
    stall_s = settings.SUBMITTING_STALL_S
    queued_cutoff = now - timedelta(seconds=settings.QUEUED_STALL_S)
    silent_since = now - timedelta(seconds=stall_s)
    with transaction.atomic():
        hold_off_sweeper(exclusive=True)
        dead = list(BatchInFlight.objects.filter(heartbeat_at__lt=silent_since).values_list("id", flat=True))
        taken = take_over(dead, now=now, silent_since=silent_since)
        running = Campaign.objects.filter(status=CampaignStatus.RUNNING).values_list("id", flat=True)
        stale = list(
            Message.objects.filter(
                campaign_id__in=list(running), status=S.QUEUED, updated_at__lt=queued_cutoff
            ).values_list("id", flat=True)
        )
        released = 0
        if stale:
            held: set[int] = set()
            for ids in BatchInFlight.objects.values_list("message_ids", flat=True):
                held.update(ids)
            free = [mid for mid in stale if mid not in held]
            released = status.back_to_pending(Message.objects.filter(id__any=free), now=now)
    if released or taken:
        logger.warning("sweeper: released %d stalled queued messages, took over %d silent batches", released, taken)
    return released, taken
