"""The submit half of a batch: hand parts to a transport, record what the provider said.

This is the hot path (thousands of messages a second), so it works on tuples and a few
set-based statements per batch, never on one model instance per message.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from campaigns.models import Campaign, CampaignStatus, Message, MessagePart
from campaigns.services.bulk_sql import ids_in, member_of, quoted_table, update_from_values
from campaigns.services.status import advance_messages, advance_parts, release_parts_for_retry, roll_up_messages
from campaigns.statuses import MessageStatus, rollup, statuses_below

logger = logging.getLogger(__name__)

S = MessageStatus
MAX_SUBMIT_ATTEMPTS = 5
RETRY_BACKOFF_S = (1, 5, 15, 60, 300)


@dataclass(frozen=True)
class PartToSend:
    part_id: int
    message_id: int
    campaign_id: int
    index: int
    total: int
    phone: str
    body: str
    sender: str
    sender_ton: int
    sender_npi: int
    validity: timedelta | None


@dataclass(frozen=True)
class SubmitOutcome:
    """What the provider said to one part: outcome accepted | failed | retry | unknown."""

    part_id: int
    outcome: str
    provider_message_id: str | None = None
    error_code: int | None = None
    error: str = ""


def begin_submit(*, message_ids: Iterable[int], claim: int, count_segments: Callable[[str], int]) -> list[PartToSend]:
    """Mark the batch's sendable parts ``submitting`` and return them, in message order.

    Only messages still held by ``claim`` are considered, so a stale batch (its messages
    released and re-claimed since) does nothing. Safe on redelivery of the same batch:
    messages already past ``submitting`` are skipped; a part still in ``submitting`` was
    written by a worker that died before its result was recorded, the one ambiguous case:
    marked ``unknown`` (default) or resent (SUBMIT_AMBIGUOUS_POLICY). Messages of paused
    campaigns go back to pending, of cancelled ones are cancelled. ``count_segments`` is
    the transport's segmenter: the domain does not encode text.
    """
    ids = list(message_ids)
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            Message.objects.select_for_update(of=("self",))
            .filter(id__in=ids_in(ids), claim=claim, status__in=[S.QUEUED, S.SUBMITTING])
            .order_by("id")
            .values_list("id", "status", "phone", "body", "segments", "campaign_id", "campaign__status")
        )
        runnable = [r for r in rows if r[6] == CampaignStatus.RUNNING]
        cancelled = [r[0] for r in rows if r[6] == CampaignStatus.CANCELLED]
        paused = [r[0] for r in rows if r[6] not in (CampaignStatus.RUNNING, CampaignStatus.CANCELLED)]
        if paused:
            Message.objects.filter(id__in=paused, status=S.QUEUED).update(status=S.PENDING, claim=None, updated_at=now)
        advance_messages(cancelled, S.CANCELLED, reason="campaign cancelled")
        if not runnable:
            return []
        campaigns = {
            c.id: c for c in Campaign.objects.filter(id__in={r[5] for r in runnable}).select_related("account")
        }
        redelivered = [r[0] for r in runnable if r[1] == S.SUBMITTING]
        _settle_ambiguous(redelivered)
        with_parts = set(
            MessagePart.objects.filter(message_id__in=ids_in([r[0] for r in runnable])).values_list(
                "message_id", flat=True
            )
        )
        totals = {r[0]: r[4] for r in runnable}
        fresh = [r for r in runnable if r[0] not in with_parts]
        for r in fresh:
            totals[r[0]] = max(1, count_segments(r[3] or campaigns[r[5]].body))
        parts = _insert_parts([(r[0], campaigns[r[5]].account_id, totals[r[0]]) for r in fresh], now) + _resume_parts(
            [r[0] for r in runnable if r[0] in with_parts], now
        )
        multi = [(mid, n) for mid, n in totals.items() if n != 1 and mid not in with_parts]
        update_from_values(Message, columns=["segments"], rows=multi)
        advance_messages([r[0] for r in runnable], S.SUBMITTING)
    by_id = {r[0]: r for r in runnable}
    out = []
    for part_id, message_id, index in sorted(parts, key=lambda p: (p[1], p[2])):
        _, _, phone, body, _, campaign_id, _ = by_id[message_id]
        c = campaigns[campaign_id]
        out.append(
            PartToSend(
                part_id=part_id, message_id=message_id, campaign_id=campaign_id, index=index,
                total=totals[message_id], phone=phone, body=body or c.body,
                sender=c.sender or c.account.source_addr, sender_ton=c.account.source_addr_ton,
                sender_npi=c.account.source_addr_npi, validity=c.validity_period,
            )
        )  # fmt: skip
    return out


def _insert_parts(messages: list[tuple[int, int, int]], now: datetime) -> list[tuple[int, int, int]]:
    """Create the parts of first-time messages directly in ``submitting``; (id, message, index)."""
    values = [(mid, account, i) for mid, account, n in messages for i in range(1, n + 1)]
    if not values:
        return []
    table = quoted_table(MessagePart)
    columns = 'message_id, account_id, "index", status, error, attempts, updated_at'
    if connection.vendor == "postgresql":
        # Three array parameters instead of thousands of placeholders.
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT m, a, i, %s, '', 0, %s "
                f"FROM unnest(%s::bigint[], %s::bigint[], %s::int[]) AS t(m, a, i) "
                f'RETURNING id, message_id, "index"',
                [S.SUBMITTING, now, [v[0] for v in values], [v[1] for v in values], [v[2] for v in values]],
            )
            return cursor.fetchall()
    out: list[tuple[int, int, int]] = []
    for start in range(0, len(values), 2000):
        chunk = values[start : start + 2000]
        placeholders = ", ".join(["(%s, %s, %s, %s, '', 0, %s)"] * len(chunk))
        params: list = []
        for mid, account, index in chunk:
            params.extend([mid, account, index, S.SUBMITTING, now])
        with connection.cursor() as cursor:
            cursor.execute(
                f'INSERT INTO {table} ({columns}) VALUES {placeholders} RETURNING id, message_id, "index"', params
            )
            out.extend(cursor.fetchall())
    return out


def _resume_parts(message_ids: list[int], now: datetime) -> list[tuple[int, int, int]]:
    """Pending parts of messages seen before (retries, resend policy) → ``submitting``."""
    if not message_ids:
        return []
    table = quoted_table(MessagePart)
    ids_sql, params = member_of("message_id", message_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, updated_at = %s WHERE {ids_sql} AND status = %s "
            f'RETURNING id, message_id, "index"',
            [S.SUBMITTING, now, *params, S.PENDING],
        )
        return cursor.fetchall()


def _settle_ambiguous(message_ids: list[int]) -> None:
    if not message_ids:
        return
    stuck = MessagePart.objects.filter(message_id__in=message_ids, status=S.SUBMITTING)
    if getattr(settings, "SUBMIT_AMBIGUOUS_POLICY", "unknown") == "resend":
        stuck.update(status=S.PENDING, updated_at=timezone.now())
        return
    ids = list(stuck.values_list("id", flat=True))
    if ids:
        logger.warning("%d parts left in submitting by a lost worker marked unknown", len(ids))
        advance_parts(ids, S.UNKNOWN, error="worker stopped before the SMSC answered")


def settle_stalled_submits(message_ids: list[int]) -> None:
    """Messages whose worker vanished mid-batch: settle their parts, roll them up."""
    if not message_ids:
        return
    with transaction.atomic():
        _settle_ambiguous(message_ids)
        if getattr(settings, "SUBMIT_AMBIGUOUS_POLICY", "unknown") == "resend":
            Message.objects.filter(id__in=message_ids, status=S.SUBMITTING).update(
                status=S.PENDING, claim=None, updated_at=timezone.now()
            )
        else:
            roll_up_messages(message_ids)


def running_campaigns(campaign_ids: Iterable[int]) -> set[int]:
    """Which of these campaigns are still running: checked between chunks of a batch so
    that pause and cancel stop submits within a fraction of a second."""
    return set(
        Campaign.objects.filter(id__in=set(campaign_ids), status=CampaignStatus.RUNNING).values_list("id", flat=True)
    )


def release_unsent(*, part_ids: Iterable[int]) -> None:
    """Parts a batch did not send because their campaign stopped: back to pending (paused)
    or cancelled, with their messages; nothing was written to the SMSC for them."""
    ids = list(part_ids)
    if not ids:
        return
    now = timezone.now()
    with transaction.atomic():
        MessagePart.objects.filter(id__in=ids, status=S.SUBMITTING).update(status=S.PENDING, updated_at=now)
        message_ids = set(MessagePart.objects.filter(id__in=ids).values_list("message_id", flat=True))
        messages = Message.objects.filter(id__in=message_ids, status=S.SUBMITTING)
        cancelled_ids = list(messages.filter(campaign__status=CampaignStatus.CANCELLED).values_list("id", flat=True))
        MessagePart.objects.filter(message_id__in=cancelled_ids, status=S.PENDING).update(
            status=S.CANCELLED, updated_at=now, done_at=now
        )
        roll_up_messages(cancelled_ids)
        Message.objects.filter(id__in=message_ids, status=S.SUBMITTING).exclude(id__in=cancelled_ids).update(
            status=S.PENDING, claim=None, updated_at=now
        )


def record_submit_results(*, outcomes: Iterable[SubmitOutcome], now: datetime | None = None) -> None:
    """Record a batch's answers: one UPDATE for all accepted ids, one per other group."""
    now = now or timezone.now()
    results = list(outcomes)
    groups: dict[str, list[SubmitOutcome]] = defaultdict(list)
    for r in results:
        groups[r.outcome].append(r)
    unexpected = set(groups) - {"accepted", "failed", "unknown", "retry"}
    if unexpected:
        raise ValueError(f"unknown submit outcomes: {sorted(unexpected)}")
    with transaction.atomic():
        _record_accepted(groups["accepted"], now)
        failed: dict[tuple, list[int]] = defaultdict(list)
        for r in groups["failed"]:
            failed[(r.error_code, r.error)].append(r.part_id)
        for (code, error), ids in failed.items():
            advance_parts(ids, S.FAILED, error_code=code, error=error[:255], submitted_at=now)
        advance_parts(
            [r.part_id for r in groups["unknown"]], S.UNKNOWN, error="no response from the SMSC", submitted_at=now
        )
        _schedule_retries(groups["retry"], now)
        _roll_up_submitted([r.part_id for r in results], now)


def _roll_up_submitted(part_ids: list[int], now: datetime) -> None:
    """Messages follow their parts; those reaching accepted get their submitted time."""
    parts: dict[int, list[str]] = defaultdict(list)
    table = quoted_table(MessagePart)
    ids_sql, params = member_of("id", part_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT p.message_id, p.status FROM {table} p WHERE p.message_id IN "
            f"(SELECT message_id FROM {table} WHERE {ids_sql})",
            params,
        )
        for message_id, status in cursor.fetchall():
            parts[message_id].append(status)
    by_status: dict[str, list[int]] = defaultdict(list)
    for message_id, statuses in parts.items():
        by_status[rollup(statuses)].append(message_id)
    for status, ids in by_status.items():
        extra = {"submitted_at": now} if status == S.ACCEPTED else {}
        advance_messages(ids, status, **extra)


def _record_accepted(accepted: list[SubmitOutcome], now: datetime) -> None:
    """One statement sets each part's provider id, forward-only."""
    if not accepted:
        return
    below = statuses_below(S.ACCEPTED)
    table = quoted_table(MessagePart)
    status_sql, status_params = member_of(f"{table}.status", below, cast="text")
    updated = update_from_values(
        MessagePart,
        columns=["provider_message_id"],
        rows=[(r.part_id, r.provider_message_id) for r in accepted],
        constants={"status": S.ACCEPTED, "submitted_at": now, "updated_at": now},
        where=status_sql,
        where_params=status_params,
    )
    if updated < len(accepted):
        # A part already past "accepted" (e.g. settled as unknown) still needs its id so
        # that its receipt can match.
        update_from_values(
            MessagePart,
            columns=["provider_message_id"],
            rows=[(r.part_id, r.provider_message_id) for r in accepted],
            where=f"{table}.provider_message_id IS NULL",
        )


def _schedule_retries(retries: list[SubmitOutcome], now: datetime) -> None:
    """Transient errors: back to pending with backoff, or failed after the last attempt."""
    if not retries:
        return
    parts = list(
        MessagePart.objects.filter(id__in=[r.part_id for r in retries]).values_list("id", "attempts", "message_id")
    )
    reason = {r.part_id: (r.error_code, r.error) for r in retries}
    for part_id, attempts, message_id in parts:
        code, error = reason[part_id]
        if attempts + 1 >= MAX_SUBMIT_ATTEMPTS:
            advance_parts(
                [part_id], S.FAILED, error_code=code, error=f"gave up after {MAX_SUBMIT_ATTEMPTS} tries: {error}"[:255]
            )
            continue
        release_parts_for_retry([part_id], attempts=attempts + 1, error=error[:255])
        delay = RETRY_BACKOFF_S[min(attempts, len(RETRY_BACKOFF_S) - 1)]
        Message.objects.filter(id=message_id, status__in=[S.SUBMITTING, S.QUEUED]).update(
            status=S.PENDING, claim=None, not_before=now + timedelta(seconds=delay), updated_at=now
        )
