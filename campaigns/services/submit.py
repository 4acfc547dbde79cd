"""The submit half of a batch: hand parts to a transport, record what the provider said.

This is the hot path (thousands of messages a second). Per message it costs three row
writes in all: the claim (pending → queued, by the tick), then, once the provider has
answered, one INSERT of its parts already answered and one UPDATE of the message. Before
sending nothing is written per message: the batch's one :class:`BatchInFlight` row says
which parts are on the wire, which is what keeps each message sent once or marked
"unknown" when a worker dies (see that model).

The domain drives every batch with :func:`send_batch` (the one send loop, run by the batch
task ``campaigns.send_batch`` in a transport's worker) and the :class:`~.senders.Sender` the
transport registered there. What the provider answered is recorded by
:func:`.submit_writes.record_submit_results`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import NamedTuple, TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connection, transaction
from django.utils import timezone

from campaigns.models import Account, BatchInFlight, Campaign, CampaignStatus, Channel, Message, MessagePart
from campaigns.services import pace
from campaigns.services.bulk_sql import member_of, quoted_table
from campaigns.services.senders import BatchPlan, PartToSend, Sender
from campaigns.services.status import roll_up_answered
from campaigns.services.submit_recovery import hold_off_sweeper, release_messages, take_over
from campaigns.services.submit_writes import record_submit_results
from campaigns.sms_text.smart_encoding import smart_encode
from campaigns.statuses import S
from plumbing.db import hand_back_connection

logger = logging.getLogger(__name__)

WORKER = f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class BatchToSend:
    """The parts a batch is to send; ``id`` is its BatchInFlight row (None: nothing to send).
    ``paces``: the send rate of each capped campaign among them (empty: none is capped)."""

    id: int | None
    parts: list[PartToSend]
    paces: dict[int, int] = field(default_factory=dict)


Segment = Callable[..., Sequence[object]]  # Sender.segment: (text, *, ref) -> the parts' payloads


def send_batch(*, message_ids: Sequence[int], claim: int, sender: Sender) -> dict[str, int]:
    """Send one batch with a transport's ``sender``; returns counts by outcome.

    The sender's plan for the batch gives the chunk size (about half a second of sending)
    and the ``send`` function. Between chunks a paused or cancelled campaign is seen (its
    parts go back or are cancelled), each chunk is marked on the wire before ``send`` and
    its answers recorded at once after. ``send`` returns an outcome per part it dealt with;
    parts it returns nothing for were not sent (the transport cannot go on): they and the
    rest of the batch are released. A batch taken over by another worker stops before its
    next chunk.

    A capped campaign's chunk is about half a second of its pace, and its parts go at the
    slots reserved for them (``campaigns.services.pace``); uncapped chunks go at once.

    The plan's ``local_id`` (MM4) names each part before its chunk goes on the wire: the id
    is recorded with the on-wire list and then on the part, so a report that refers to it
    matches even when the provider's answer was lost (the part is "unknown" then, not
    unreachable).
    """
    started = time.perf_counter()
    plan = sender.plan()
    counts = _send(message_ids, claim, sender.segment, plan)
    logger.info("batch of %d messages in %.0f ms: %s", len(message_ids), (time.perf_counter() - started) * 1000, counts)
    return counts


def _send(message_ids: Sequence[int], claim: int, segment: Segment, plan: BatchPlan) -> dict[str, int]:
    chunk_size, send, local_id = plan.chunk_size, plan.send, plan.local_id
    batch = begin_submit(message_ids=message_ids, claim=claim, segment=segment)
    counts: dict[str, int] = {}
    if batch.id is None:
        return counts
    pending = batch.parts
    senders: dict[int, pace.SlotSender] = {}  # capped campaigns only
    while pending:
        running = running_campaigns(p.campaign_id for p in pending)
        stopped = [p for p in pending if p.campaign_id not in running]
        if stopped:
            _with_db_retry(partial(release_unsent, batch_id=batch.id, parts=stopped))
            counts["released"] = counts.get("released", 0) + len(stopped)
            pending = [p for p in pending if p.campaign_id in running]
        rate = batch.paces.get(pending[0].campaign_id) if batch.paces and pending else None
        todo, pending = split_chunk(pending, chunk_size) if rate is None else _paced_chunk(pending, rate, chunk_size)
        if not todo:
            break
        slots = None
        if rate is not None:
            sender = senders.get(todo[0].campaign_id) or senders.setdefault(
                todo[0].campaign_id, _slot_sender(todo[0].campaign_id, rate)
            )
            slots = sender.next_slots(len(todo))
            hand_back_connection()  # not held while waiting for the slots
            if not _await_slots(slots):
                pending = todo + pending
                continue
        if local_id is not None:
            todo = [replace(p, local_message_id=local_id(p)) for p in todo]
        if not _with_db_retry(partial(mark_on_wire, batch_id=batch.id, parts=todo)):
            logger.warning("batch %s was taken over by another worker; stopping", batch.id)
            return counts
        deferred: list[PartToSend] = []
        if slots is None:
            outcomes = send(todo)
        else:
            outcomes, deferred = sender.send(todo, slots, send)
            pending = deferred + pending  # late: what missed its slots is reserved again
        _with_db_retry(partial(record_submit_results, batch_id=batch.id, outcomes=outcomes))
        for o in outcomes:
            counts[o.outcome] = counts.get(o.outcome, 0) + 1
        answered = {o.part.key for o in outcomes} | {p.key for p in deferred}
        unsent = [p for p in todo if p.key not in answered]
        if unsent:
            unsent += pending
            _with_db_retry(partial(release_unsent, batch_id=batch.id, parts=unsent))
            counts["released"] = counts.get("released", 0) + len(unsent)
            break
    _with_db_retry(partial(finish_batch, batch_id=batch.id))
    return counts


def _paced_chunk(parts: list[PartToSend], rate: int, chunk_size: int) -> tuple[list[PartToSend], list[PartToSend]]:
    """A capped campaign's next chunk: about ``pace.CHUNK_S`` of its pace in whole messages,
    of that campaign only (the tick claims a batch per campaign, so this rarely cuts)."""
    todo, rest = split_chunk(parts, pace.chunk_parts(rate, chunk_size))
    cut = next((k for k, p in enumerate(todo) if p.campaign_id != todo[0].campaign_id), len(todo))
    return todo[:cut], todo[cut:] + rest


def _slot_sender(campaign_id: int, rate: int) -> pace.SlotSender:
    """The pacing of a capped campaign's parts in this batch, its slots reserved in the database."""

    def reserve(count: int) -> pace.Slots:
        return _with_db_retry(partial(pace.reserve, campaign_id=campaign_id, rate=rate, count=count))

    return pace.SlotSender(rate=rate, reserve=reserve, gate=pace.gate(campaign_id))


def _await_slots(slots: pace.Slots) -> bool:
    """Wait until just before a paced chunk's first slot (the chunk is then marked on the
    wire, and ``pace.send_at_slots`` waits for the slot itself). After a long wait (other
    batches of the campaign reserved ahead) the campaign may have been paused: then the
    slots are given back and False tells the loop to look again."""
    started = time.monotonic()
    pace.wait_for(slots.at(0) - pace.MARK_LEAD_S)
    if time.monotonic() - started <= pace.CHUNK_S or running_campaigns([slots.campaign_id]):
        return True
    pace.give_back(slots, 0)
    return False


def split_chunk(parts: list[PartToSend], size: int) -> tuple[list[PartToSend], list[PartToSend]]:
    """The first ``size`` parts, extended so that no message is split between two chunks
    (a message is rolled up from its parts in hand when all of them are answered)."""
    end = min(max(1, size), len(parts))
    while end < len(parts) and parts[end].message_id == parts[end - 1].message_id:
        end += 1
    return parts[:end], parts[end:]


T = TypeVar("T")


def _with_db_retry(step: Callable[[], T]) -> T:
    """Run a step of a batch, riding out a database restart (up to SUBMIT_DB_RETRY_S).

    The answers of a chunk exist only in this process's memory: giving up at once would
    leave parts that were accepted to be settled as "unknown" later.
    """
    deadline = time.monotonic() + settings.SUBMIT_DB_RETRY_S
    delay = 0.2
    while True:
        try:
            result = step()
            hand_back_connection()  # not held on the wire: a few connections serve every thread
            return result
        except (OperationalError, InterfaceError):
            if time.monotonic() > deadline:
                raise
            logger.warning("database unavailable during a batch; retrying in %.1f s", delay)
            close_old_connections()
            threading.Event().wait(delay)
            delay = min(delay * 2, 5.0)


class QueuedMessage(NamedTuple):
    """A message of the batch still queued under its claim, as :func:`_queued` reads it."""

    id: int
    phone: str
    body: str
    segments: int
    campaign_id: int
    campaign_status: str
    has_parts: bool
    account_id: int  # the message's own (a route gave it), else its campaign's


def begin_submit(*, message_ids: Iterable[int], claim: int, segment: Segment) -> BatchToSend:
    """Which parts of these messages to send now, and the batch's BatchInFlight row.

    Only messages still ``queued`` under ``claim`` are considered, so a stale batch (its
    messages released and re-claimed since) does nothing. A redelivered batch first takes
    over its earlier attempt: the parts that attempt had on the wire are settled by
    SUBMIT_AMBIGUOUS_POLICY; everything else it never sent is sent now. Messages of paused
    campaigns go back to pending, of cancelled ones are cancelled. ``segment`` is the
    transport's (:meth:`Sender.segment`): each message's text is cut into its parts here,
    once, and each part carries its payload to the transport.
    """
    ids = sorted(set(message_ids))
    now = timezone.now()
    with transaction.atomic():
        hold_off_sweeper(exclusive=False)
        earlier = [
            b.id
            for b in BatchInFlight.objects.filter(claim=claim).only("id", "message_ids")
            if set(b.message_ids) & set(ids)
        ]
        if earlier:
            take_over(earlier, now=now)
        rows = _queued(ids, claim)
        runnable = [r for r in rows if r.campaign_status == CampaignStatus.RUNNING]
        release_messages([r.id for r in rows if r.campaign_status != CampaignStatus.RUNNING], now=now)
        if not runnable:
            return BatchToSend(None, [])
        # Only what a part needs: a whole Account decrypts its three secrets on load, and
        # the two full models cost an eighth of a bind worker's CPU at 50 batches a second.
        campaigns = {
            c.id: c for c in Campaign.objects.filter(id__in={r.campaign_id for r in runnable}).only(*_CAMPAIGN_FIELDS)
        }
        accounts = Account.objects.only(*_ACCOUNT_FIELDS).in_bulk({r.account_id for r in runnable})
        parts = _parts_to_send(runnable, campaigns, accounts, segment)
        if not parts:
            return BatchToSend(None, [])
        paces = {c.id: c.send_rate for c in campaigns.values() if c.send_rate}
        batch = BatchInFlight.objects.create(
            account_id=parts[0].account_id,
            claim=claim,
            message_ids=sorted({p.message_id for p in parts}),
            worker=WORKER,
            heartbeat_at=now,
        )
    return BatchToSend(batch.id, parts, paces)


# What begin_submit reads of a batch's campaigns and accounts (_parts_to_send, text_to_send).
_CAMPAIGN_FIELDS = ("id", "body", "channel", "smart_encoding", "sender", "validity_period", "send_rate")
_ACCOUNT_FIELDS = ("id", "source_addr", "source_addr_ton", "source_addr_npi")


def _queued(ids: list[int], claim: int) -> list[QueuedMessage]:
    """The batch's messages still queued under ``claim``, in id order."""
    if not ids:
        return []
    m, c, p = quoted_table(Message), quoted_table(Campaign), quoted_table(MessagePart)
    ids_sql, params = member_of("m.id", ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT m.id, m.phone, m.body, m.segments, m.campaign_id, c.status, "
            f"EXISTS (SELECT 1 FROM {p} p WHERE p.message_id = m.id), COALESCE(m.account_id, c.account_id) "
            f"FROM {m} m JOIN {c} c ON c.id = m.campaign_id "
            f"WHERE {ids_sql} AND m.claim = %s AND m.status = %s ORDER BY m.id",
            [*params, claim, S.QUEUED],
        )
        return [QueuedMessage(*row) for row in cursor.fetchall()]


def _parts_to_send(
    rows: list[QueuedMessage], campaigns: dict[int, Campaign], accounts: dict[int, Account], segment: Segment
) -> list[PartToSend]:
    """First-time messages: every segment; messages seen before: their pending parts. Each
    part goes through its message's account, with that account's default sender."""
    keys: list[tuple[int, int, int]] = []  # (message_id, index, total)
    seen_before = {r.id: r.segments for r in rows if r.has_parts}
    if seen_before:
        pending = list(
            MessagePart.objects.filter(message_id__any=list(seen_before), status=S.PENDING).values_list(
                "message_id", "index"
            )
        )
        keys.extend((mid, index, seen_before[mid]) for mid, index in pending)
        nothing_left = set(seen_before) - {mid for mid, _ in pending}
        if nothing_left:  # every part answered already: the message just follows them
            roll_up_answered([], {mid: seen_before[mid] for mid in nothing_left}, now=timezone.now())
    out = []
    payloads: dict[int, Sequence[object]] = {}
    for r in rows:
        c = campaigns[r.campaign_id]
        text = text_to_send(r.body, c)
        if not r.has_parts:
            payloads[r.id] = segment(text, ref=r.id) or [None]
            keys.extend((r.id, i, len(payloads[r.id])) for i in range(1, len(payloads[r.id]) + 1))
    by_id = {r.id: r for r in rows}
    for mid, index, total in sorted(keys):
        r = by_id[mid]
        c = campaigns[r.campaign_id]
        text = text_to_send(r.body, c)
        if mid not in payloads:  # a part to retry: the same cut as when the message was first sent
            payloads[mid] = segment(text, ref=mid) or [None]
        account = accounts[r.account_id]
        out.append(
            PartToSend(
                message_id=mid,
                index=index,
                total=total,
                account_id=account.id,
                campaign_id=r.campaign_id,
                phone=r.phone,
                body=text,
                sender=c.sender or account.source_addr,
                sender_ton=account.source_addr_ton,
                sender_npi=account.source_addr_npi,
                validity=c.validity_period,
                first_send=not r.has_parts,
                paced=bool(c.send_rate),
                payload=payloads[mid][min(index, len(payloads[mid])) - 1],
            )
        )
    return out


def text_to_send(body: str, campaign: Campaign) -> str:
    """The text a message goes out with: its personalised body (or the campaign's), with
    smart encoding when the campaign has it (SMS only: look-alike characters become GSM
    ones when that never adds a segment, ``campaigns.sms_text.smart_encoding``). Applied
    here, once, as the text is cut into parts, so a retried part gets the same cut; the
    stored body stays as written, as the builder's preview shows it beside the result."""
    text = body or campaign.body
    if campaign.smart_encoding and campaign.channel == Channel.SMS:
        return smart_encode(text)
    return text


def running_campaigns(campaign_ids: Iterable[int]) -> set[int]:
    """Which of these campaigns are still running: checked between chunks of a batch so
    that pause and cancel stop submits within a fraction of a second."""
    return set(
        Campaign.objects.filter(id__in=set(campaign_ids), status=CampaignStatus.RUNNING).values_list("id", flat=True)
    )


def mark_on_wire(*, batch_id: int, parts: Sequence[PartToSend]) -> bool:
    """Record the chunk about to be sent (and a heartbeat); False if the batch was taken
    over, in which case nothing may be sent. A part with a local id is recorded with it."""
    on_wire = [[*p.key, p.local_message_id] if p.local_message_id else list(p.key) for p in parts]
    return bool(BatchInFlight.objects.filter(id=batch_id).update(on_wire=on_wire, heartbeat_at=timezone.now()))


def release_unsent(*, batch_id: int, parts: Sequence[PartToSend]) -> None:
    """Parts a batch did not send (campaign paused or cancelled, transport stopped): their
    messages go back to pending, or are cancelled with their campaign."""
    with transaction.atomic():
        release_messages(sorted({p.message_id for p in parts}), now=timezone.now())


def finish_batch(*, batch_id: int) -> None:
    """The batch is done: its row goes (every part it sent is recorded)."""
    BatchInFlight.objects.filter(id=batch_id).delete()
