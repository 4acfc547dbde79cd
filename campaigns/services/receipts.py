"""The receipt inbox: store first, acknowledge second, apply in bulk.

A transport calls :func:`record_receipts` before it acknowledges the SMSC, so a crash can
only cause a resend, never a loss. :func:`apply_receipts` then matches pending receipts to
parts by (account, normalised provider id) and moves the parts forward in a few
set-based statements. A receipt whose part has no provider id yet (the SMSC answered
faster than we committed the submit_sm_resp) simply stays pending and matches on a later
pass; one that never matches is marked orphaned after ``RECEIPT_ORPHAN_TTL``.

An MM4 report may name its part by either of two ids: the provider's (``250 queued as``)
or ours (the X-Mms-Message-ID we sent, which is what 3GPP TS 23.140 reports carry), kept
on the part as ``local_message_id``. Informational receipts (an MM4 read-reply, a message
type that says nothing about delivery) are stored as ``info`` and never applied.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from campaigns.models import PROVIDER_ID_MAX_LENGTH, MessagePart, Receipt, ReceiptState
from campaigns.services.bulk_sql import quoted_table, update_from_values, values_source
from campaigns.services.provider_fields import provider_id_problem, storable_int, storable_text
from campaigns.services.status import advance_parts, roll_up_messages, without_deadline_reason
from campaigns.statuses import RANK, S

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReceiptIn:
    """A receipt as a transport parsed it; ``provider_message_id`` already normalised."""

    provider_message_id: str
    status: str
    stat: str = ""
    err: str = ""
    raw: str = ""
    done_at: datetime | None = None
    channel: str = "smpp"
    msisdn: str = ""
    #: Kept for the record only (MM4 read-reply, unknown message types): stored as ``info``,
    #: never matched, so it can never move a part.
    informational: bool = False


def _state(r: ReceiptIn, problem: str | None) -> str:
    if r.informational:
        return ReceiptState.INFO  # a read-reply or an unknown type: stored, never applied
    return ReceiptState.ORPHANED if problem else ReceiptState.PENDING


def record_receipts(*, account_id: int, receipts: Iterable[ReceiptIn], authenticated: bool = True) -> int:
    """Durably store receipts in the inbox (one INSERT); returns how many.

    Whatever the provider sent is stored (see :mod:`.provider_fields`): NULs dropped, fields
    cut to their columns. A receipt whose id is longer than any part's id can be is kept as
    orphaned at once: it can never match, and a cut id might match the wrong part.

    ``authenticated``: the receipt came from a source that proved it speaks for this
    account (our own SMPP bind; an MM4 session logged in with the provider's login or this
    account's own). Only such a receipt may wait for a part that has not had its answer yet
    (the race the inbox exists for). One that did not (an MM4 receiver run without AUTH for
    a local demo) is applied only to a part that already has its answer; for any other id
    it is kept as orphaned at once, so a report planted for the next provider id can never
    pre-empt the real one.
    """
    receipts = list(receipts)
    unanswered = set() if authenticated else _unanswered_ids(account_id, receipts)
    rows = []
    for r in receipts:
        provider_id = storable_text(r.provider_message_id)
        problem = provider_id_problem(provider_id)
        if not problem and not r.informational and provider_id in unanswered:
            problem = "an unauthenticated report names no answered part of this account"
        if problem:
            logger.warning("account %s: receipt kept as orphaned: %s", account_id, problem)
        rows.append(
            (
                provider_id[:PROVIDER_ID_MAX_LENGTH],
                "" if r.informational else r.status if r.status in RANK else S.UNKNOWN,
                storable_text(r.stat, 16),
                storable_text(r.err, 16),
                storable_text(r.raw),
                r.done_at,
                r.channel,
                storable_text(r.msisdn, 32),
                _state(r, problem),
            )
        )
    _insert_receipts(account_id, rows)
    return len(rows)


RECEIPT_COLUMNS = (
    ("provider_message_id", "text"),
    ("status", "text"),
    ("stat", "text"),
    ("err", "text"),
    ("raw", "text"),
    ("done_at", "timestamptz"),
    ("channel", "text"),
    ("msisdn", "text"),
    ("state", "text"),
)


def _insert_receipts(account_id: int, rows: list[tuple]) -> None:
    """One INSERT … SELECT of the rows (``RECEIPT_COLUMNS``): on the hot path (every receipt
    of every bind) this costs a fraction of ``bulk_create``'s per-object work."""
    if not rows:
        return
    source, params = values_source(RECEIPT_COLUMNS, rows)
    names = ", ".join(connection.ops.quote_name(name) for name, _ in RECEIPT_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quoted_table(Receipt)} (account_id, received_at, {names}) "
            f"SELECT %s, %s, {names} FROM {source}",
            [account_id, timezone.now(), *params],
        )


def _unanswered_ids(account_id: int, receipts: list[ReceiptIn]) -> set[str]:
    """The ids among ``receipts`` that no part of the account has had its answer with.

    The provider's id only exists once the answer is recorded; our own id (MM4) exists from
    before the wire write, so it counts only once the part has left ``queued``. One
    query on the two indexes the matcher uses, whatever the number of receipts."""
    ids = {storable_text(r.provider_message_id) for r in receipts if not r.informational}
    ids.discard("")
    if not ids:
        return set()
    unanswered_statuses = [S.PENDING, S.QUEUED]  # a part on the wire is still queued
    answered = MessagePart.objects.filter(account_id=account_id).filter(
        Q(provider_message_id__in=ids) | (Q(local_message_id__in=ids) & ~Q(status__in=unanswered_statuses))
    )
    known: set[str] = set()
    for theirs, ours, status in answered.values_list("provider_message_id", "local_message_id", "status"):
        known.add(theirs or "")
        if status not in unanswered_statuses:
            known.add(ours or "")
    return ids - known


def _match_pending(limit: int) -> list[tuple[int, int, str, str]]:
    """(receipt id, part id, status, err) for pending receipts whose part is now known.

    A receipt's id is looked up as the provider's id (every channel), then, for an MM4
    receipt that no part knows by that id, as ours (``local_message_id``). Two left joins,
    each on its own index (the second on the partial one that holds MMS parts only), rather
    than one join on ``provider id OR local id``, which no index serves. The second joins only
    when the first found nothing, so a receipt that names one part by both ids is matched
    once, never applied twice. Not a UNION ALL of two joins: PostgreSQL cannot stream a union
    in receipt order under the LIMIT, so it would match the whole inbox on every pass
    (measured 5x slower with 100 000 pending receipts); this walks the inbox in id order and
    stops at ``limit``, exactly like the single join it replaces.
    """
    receipt = connection.ops.quote_name(Receipt._meta.db_table)
    part = connection.ops.quote_name(MessagePart._meta.db_table)
    # SKIP LOCKED: several appliers (the tick, apply_receipts loops) never do the same work.
    lock = " FOR UPDATE OF r SKIP LOCKED" if connection.vendor == "postgresql" else ""
    sql = (
        f"SELECT r.id, COALESCE(p.id, l.id), r.status, r.err FROM {receipt} r "
        f"LEFT JOIN {part} p ON p.account_id = r.account_id AND p.provider_message_id = r.provider_message_id "
        f"LEFT JOIN {part} l ON p.id IS NULL AND r.channel = %s AND l.local_message_id IS NOT NULL "
        f"AND l.account_id = r.account_id AND l.local_message_id = r.provider_message_id "
        f"WHERE r.state = %s AND (p.id IS NOT NULL OR l.id IS NOT NULL) ORDER BY r.id LIMIT %s{lock}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, ["mm4", ReceiptState.PENDING, limit])
        return cursor.fetchall()


def _err_code(err: str) -> int | None:
    """The receipt's err as a number for ``error_code`` (None when it is not one, or too big)."""
    try:
        return storable_int(int(err, 16) if err.lower().startswith("0x") else int(err))
    except (TypeError, ValueError):
        return None


def adopt_ambiguous_parts(*, now: datetime | None = None, older_than_s: float = 10.0, limit: int = 500) -> int:
    """Give "unknown" parts the provider id of a receipt that can only be theirs.

    A part is "unknown" when its submit_sm was written but the answer was lost (a crash,
    a dropped connection): we never learnt its provider id, so its receipt cannot match
    by id and would end orphaned. A receipt still unmatched after ``older_than_s`` whose
    handset (``msisdn``) has exactly one single-part "unknown" message on that account
    proves the submit arrived: the part adopts the receipt's id, and the normal match then
    applies it (unknown → delivered, say). Anything less certain is left alone.
    Returns how many parts adopted an id.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=older_than_s)
    stale = (
        Receipt.objects.filter(state=ReceiptState.PENDING, received_at__lt=cutoff)
        .exclude(msisdn="")
        .exclude(provider_message_id="")  # a receipt without an id has none to give
        .values_list("account_id", "msisdn", "provider_message_id")[:limit]
    )
    adopted = 0
    for account_id, msisdn, provider_id in stale:
        digits = "".join(ch for ch in msisdn if ch.isdigit())
        candidates = list(
            MessagePart.objects.filter(
                account_id=account_id,
                status=S.UNKNOWN,
                provider_message_id__isnull=True,
                message__phone=f"+{digits}",
                message__segments=1,
            ).values_list("id", flat=True)[:2]
        )
        if len(candidates) == 1:
            adopted += MessagePart.objects.filter(id=candidates[0], provider_message_id__isnull=True).update(
                provider_message_id=provider_id
            )
    return adopted


def apply_receipts(*, limit: int = 20000, now: datetime | None = None) -> int:
    """Apply matched pending receipts; returns how many receipts were applied.

    Parts move forward only, so a duplicate or out-of-order receipt changes nothing; the
    receipt is still marked applied (it was matched and considered).
    """
    now = now or timezone.now()
    with transaction.atomic():
        matched = _match_pending(limit)
        if not matched:
            return 0
        groups: dict[tuple[str, str], list[int]] = defaultdict(list)
        for _, part_id, status, err in matched:
            groups[(status, err)].append(part_id)
        for (status, err), part_ids in groups.items():
            fields = {"done_at": now} if RANK.get(status, 0) == 100 else {}
            if status not in (S.DELIVERED, S.ACCEPTED) and err:
                fields["error_code"] = _err_code(err)
                fields["error"] = f"receipt err {err}"
            else:  # a receipt after the deadline: "no delivery receipt within …" is no longer true
                fields["error"] = without_deadline_reason("error")
            advance_parts(part_ids, status, **fields)
        receipt_part = {rid: pid for rid, pid, _, _ in matched}
        by_part: dict[int, list[int]] = defaultdict(list)
        for rid, pid in receipt_part.items():
            by_part[pid].append(rid)
        _mark_applied(receipt_part, now)
        message_ids = MessagePart.objects.filter(id__any=list(by_part)).values_list("message_id", flat=True)
        roll_up_messages(message_ids)
    return len(matched)


def _mark_applied(receipt_part: dict[int, int], now: datetime) -> None:
    """Mark receipts applied and link each to its part (one UPDATE … FROM VALUES)."""
    update_from_values(
        Receipt,
        columns=["part_id"],
        rows=list(receipt_part.items()),
        constants={"state": ReceiptState.APPLIED, "applied_at": now},
    )


def orphan_stale_receipts(*, now: datetime | None = None) -> int:
    """Pending receipts older than the TTL (default 48 h) become orphaned, for the admin."""
    now = now or timezone.now()
    ttl = timedelta(seconds=settings.RECEIPT_ORPHAN_TTL_S)
    return Receipt.objects.filter(state=ReceiptState.PENDING, received_at__lt=now - ttl).update(
        state=ReceiptState.ORPHANED
    )
