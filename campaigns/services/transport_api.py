"""The one door from the transports into the domain.

``smpp_transport`` and ``mms_transport`` call only these functions: begin a batch (which
parts to send, now marked ``submitting``), record what the provider answered, and store
receipts and inbound messages. Everything here is set-based: a batch costs a handful of
statements whatever its size.
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

from campaigns.models import Account, Campaign, CampaignStatus, Message, MessagePart
from campaigns.services.status import (
    advance_messages,
    advance_parts,
    release_parts_for_retry,
    roll_up_messages,
)
from campaigns.statuses import MessageStatus, statuses_below

logger = logging.getLogger(__name__)

S = MessageStatus
MAX_SUBMIT_ATTEMPTS = 5
RETRY_BACKOFF_S = (1, 5, 15, 60, 300)


@dataclass(frozen=True)
class AccountSettings:
    """What a transport needs to know about an account (secrets included: never log this)."""

    id: int
    system_id: str
    password: str
    host: str
    port: int
    tls: bool
    tls_ca_file: str
    bind_mode: str
    binds: int
    rate_per_bind: int
    window: int
    system_type: str
    enquire_link_interval: int
    message_id_format: str
    stopped_reason: str

    def __repr__(self) -> str:
        return f"AccountSettings(system_id={self.system_id!r})"


def account_settings(*, system_id: str) -> AccountSettings:
    a = Account.objects.get(system_id=system_id)
    return AccountSettings(
        id=a.id, system_id=a.system_id, password=a.smpp_password, host=a.smpp_host, port=a.smpp_port,
        tls=a.smpp_tls, tls_ca_file=a.smpp_tls_ca_file, bind_mode=a.bind_mode, binds=a.binds,
        rate_per_bind=a.rate_per_bind, window=a.window, system_type=a.system_type,
        enquire_link_interval=a.enquire_link_interval, message_id_format=a.message_id_format,
        stopped_reason=a.smpp_stopped_reason,
    )  # fmt: skip


def stop_account_smpp(*, system_id: str, reason: str) -> None:
    """Record why an account's SMPP sending stopped (bad credentials): the admin shows it."""
    Account.objects.filter(system_id=system_id).update(smpp_stopped_reason=reason[:255])


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


def begin_submit(*, message_ids: Iterable[int], claim: int, count_segments: Callable[[str], int]) -> list[PartToSend]:
    """Mark the batch's sendable parts ``submitting`` and return them, in message order.

    Only messages still held by ``claim`` are considered, so a stale batch (its messages
    released and re-claimed since) does nothing. Safe on redelivery of the same batch:
    messages already past ``submitting`` are skipped; a part still in
    ``submitting`` was written by a worker that died before its result was recorded, the
    one ambiguous case: marked ``unknown`` (default) or resent (SUBMIT_AMBIGUOUS_POLICY).
    Messages of paused campaigns go back to pending, of cancelled ones are cancelled.
    ``count_segments`` is the transport's segmenter: the domain does not encode text.
    """
    ids = list(message_ids)
    now = timezone.now()
    with transaction.atomic():
        messages = list(
            Message.objects.select_for_update(of=("self",))
            .filter(id__in=ids, claim=claim, status__in=[S.QUEUED, S.SUBMITTING])
            .select_related("campaign", "campaign__account")
            .order_by("id")
        )
        runnable, paused, cancelled = [], [], []
        for m in messages:
            state = m.campaign.status
            if state == CampaignStatus.RUNNING:
                runnable.append(m)
            elif state == CampaignStatus.CANCELLED:
                cancelled.append(m.id)
            else:
                paused.append(m.id)
        Message.objects.filter(id__in=paused, status=S.QUEUED).update(status=S.PENDING, claim=None, updated_at=now)
        advance_messages(cancelled, S.CANCELLED, reason="campaign cancelled")
        _settle_ambiguous([m.id for m in runnable if m.status == S.SUBMITTING])
        _create_missing_parts(runnable, count_segments)
        parts = list(
            MessagePart.objects.filter(message_id__in=[m.id for m in runnable], status=S.PENDING).order_by(
                "message_id", "index"
            )
        )
        MessagePart.objects.filter(id__in=[p.id for p in parts], status=S.PENDING).update(
            status=S.SUBMITTING, updated_at=now
        )
        advance_messages([m.id for m in runnable], S.SUBMITTING)
    by_id = {m.id: m for m in runnable}
    out = []
    for p in parts:
        m = by_id[p.message_id]
        c = m.campaign
        out.append(
            PartToSend(
                part_id=p.id, message_id=m.id, campaign_id=m.campaign_id, index=p.index,
                total=m.segments, phone=m.phone,
                body=m.body or c.body, sender=c.sender or c.account.source_addr,
                sender_ton=c.account.source_addr_ton, sender_npi=c.account.source_addr_npi,
                validity=c.validity_period,
            )
        )  # fmt: skip
    return out


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
        cancelled = messages.filter(campaign__status=CampaignStatus.CANCELLED)
        cancelled_ids = list(cancelled.values_list("id", flat=True))
        MessagePart.objects.filter(message_id__in=cancelled_ids, status=S.PENDING).update(
            status=S.CANCELLED, updated_at=now, done_at=now
        )
        roll_up_messages(cancelled_ids)
        Message.objects.filter(id__in=message_ids, status=S.SUBMITTING).exclude(id__in=cancelled_ids).update(
            status=S.PENDING, claim=None, updated_at=now
        )


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


def _create_missing_parts(messages: list[Message], count_segments: Callable[[str], int]) -> None:
    fresh = [m for m in messages if not m.parts.exists()] if messages else []
    if not fresh:
        return
    new_parts = []
    for m in fresh:
        m.segments = max(1, count_segments(m.body or m.campaign.body))
        new_parts.extend(
            MessagePart(message=m, account_id=m.campaign.account_id, index=i) for i in range(1, m.segments + 1)
        )
    MessagePart.objects.bulk_create(new_parts, ignore_conflicts=True)
    Message.objects.bulk_update(fresh, ["segments"])


@dataclass(frozen=True)
class SubmitOutcome:
    """What the SMSC said to one part: outcome accepted | failed | retry | unknown."""

    part_id: int
    outcome: str
    provider_message_id: str | None = None
    error_code: int | None = None
    error: str = ""


def record_submit_results(*, outcomes: Iterable[SubmitOutcome], now: datetime | None = None) -> None:
    """Record a batch's answers: one UPDATE for all accepted ids, one per other group."""
    now = now or timezone.now()
    results = list(outcomes)
    groups: dict[str, list[SubmitOutcome]] = defaultdict(list)
    for r in results:
        groups[r.outcome].append(r)
    with transaction.atomic():
        _record_accepted(groups.pop("accepted", []), now)
        failed: dict[tuple, list[int]] = defaultdict(list)
        for r in groups.pop("failed", []):
            failed[(r.error_code, r.error)].append(r.part_id)
        for (code, error), ids in failed.items():
            advance_parts(ids, S.FAILED, error_code=code, error=error[:255], submitted_at=now)
        unknown = [r.part_id for r in groups.pop("unknown", [])]
        advance_parts(unknown, S.UNKNOWN, error="no response from the SMSC", submitted_at=now)
        _schedule_retries(groups.pop("retry", []), now)
        if groups:
            raise ValueError(f"unknown submit outcomes: {sorted(groups)}")
        message_ids = set(
            MessagePart.objects.filter(id__in=[r.part_id for r in results]).values_list("message_id", flat=True)
        )
        roll_up_messages(message_ids)
        Message.objects.filter(id__in=message_ids, submitted_at__isnull=True).update(submitted_at=now)


def _record_accepted(accepted: list[SubmitOutcome], now: datetime) -> None:
    """One statement: UPDATE … FROM (VALUES …) sets each part's provider id, forward-only."""
    if not accepted:
        return
    table = connection.ops.quote_name(MessagePart._meta.db_table)
    below = statuses_below(S.ACCEPTED)
    values = ", ".join(["(%s, %s)"] * len(accepted))
    status_in = ", ".join(["%s"] * len(below))
    cast = "::bigint" if connection.vendor == "postgresql" else ""
    sql = (
        f"UPDATE {table} SET provider_message_id = v.pid, status = %s, submitted_at = %s, "
        f"updated_at = %s, attempts = attempts + 1 "
        f"FROM (SELECT column1 AS id, column2 AS pid FROM (VALUES {values}) AS vv) AS v "
        f"WHERE {table}.id = v.id{cast} AND {table}.status IN ({status_in})"
    )
    params: list = [S.ACCEPTED, now, now]
    for r in accepted:
        params.extend([r.part_id, r.provider_message_id])
    params.extend(below)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    # A part already past "accepted" (e.g. marked unknown) still needs its id for receipts.
    _fill_missing_ids(accepted)


def _fill_missing_ids(accepted: list[SubmitOutcome]) -> None:
    missing = set(
        MessagePart.objects.filter(id__in=[r.part_id for r in accepted], provider_message_id__isnull=True).values_list(
            "id", flat=True
        )
    )
    for r in accepted:
        if r.part_id in missing:
            MessagePart.objects.filter(id=r.part_id).update(provider_message_id=r.provider_message_id)


def _schedule_retries(retries: list[SubmitOutcome], now: datetime) -> None:
    """Transient errors: back to pending with backoff, or failed after the last attempt."""
    if not retries:
        return
    parts = list(MessagePart.objects.filter(id__in=[r.part_id for r in retries]).only("id", "attempts", "message_id"))
    reason = {r.part_id: (r.error_code, r.error) for r in retries}
    give_up = [p for p in parts if p.attempts + 1 >= MAX_SUBMIT_ATTEMPTS]
    again = [p for p in parts if p.attempts + 1 < MAX_SUBMIT_ATTEMPTS]
    for p in give_up:
        code, error = reason[p.id]
        advance_parts(
            [p.id],
            S.FAILED,
            error_code=code,
            error=f"gave up after {MAX_SUBMIT_ATTEMPTS} tries: {error}"[:255],
        )
    for p in again:
        release_parts_for_retry([p.id], attempts=p.attempts + 1, error=reason[p.id][1][:255])
        delay = RETRY_BACKOFF_S[min(p.attempts, len(RETRY_BACKOFF_S) - 1)]
        Message.objects.filter(id=p.message_id, status__in=[S.SUBMITTING, S.QUEUED]).update(
            status=S.PENDING, not_before=now + timedelta(seconds=delay), updated_at=now
        )
