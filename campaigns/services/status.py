"""The one way a message, part or campaign changes status: forward only, set-based.

Every status write of the platform is a function here. Each issues set-based statements
whose WHERE clause admits only rows in a lower-ranked status, so concurrent writers (a
receipt applier and a late submit result, two redelivered batches) cannot move a row
backwards and a duplicate update is a no-op by construction. The sanctioned steps back
are explicit and named: :func:`back_to_pending` (queued → pending) and
:func:`cancel_unsent`. A message's status follows its parts by one roll-up,
:func:`roll_up` (rule: :func:`campaigns.statuses.rollup`).

Each write sets ``updated_at`` to one ``now`` and, right after its UPDATE, writes the
webhook events of the messages (or campaign) it moved with one more statement
(:mod:`campaigns.services.webhook_outbox`; none when no endpoint is active), in the same
transaction. Part writes emit nothing themselves: their message's roll-up does. The moved
rows are found again by their new status and that ``now``, so a queryset handed to these
functions must not filter on status itself (none of the callers does).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Case, F, Model, QuerySet, Value, When
from django.utils import timezone

from campaigns.models import Campaign, Message, MessagePart
from campaigns.services.bulk_sql import member_of, quoted_table, rank_sql, values_source
from campaigns.services.webhook_outbox import campaign_events, message_events
from campaigns.statuses import DEADLINE_REASON_PREFIX, FINAL_STATUSES, S, rollup, statuses_below

CHUNK_ROWS = 2000  # rows per statement (within SQLite's 32766 parameters with eleven columns)


# -- forward moves -----------------------------------------------------------------------


def _advance(model: type[Model], ids: Iterable[int], status: str, fields: dict[str, Any]) -> int:
    id_list = list(ids)
    if not id_list:
        return 0
    now = timezone.now()
    values: dict[str, Any] = {"status": status, "updated_at": now, **fields}
    if status in FINAL_STATUSES and "done_at" not in values:
        values["done_at"] = now
    moved = model.objects.filter(id__any=id_list, status__in=statuses_below(status)).update(**values)
    if moved and model is Message:
        message_events(Message.objects.filter(id__any=id_list, status=status, updated_at=now), now=now)
    return moved


def advance_parts(part_ids: Iterable[int], status: str, **fields: Any) -> int:
    """Move parts forward to ``status`` (and set ``fields``); rows already past it are untouched.

    Returns how many rows moved.
    """
    return _advance(MessagePart, part_ids, status, fields)


def advance_messages(message_ids: Iterable[int], status: str, **fields: Any) -> int:
    """Move messages forward to ``status``; rows already at or past it are untouched."""
    return _advance(Message, message_ids, status, fields)


def claim_pending(
    *, campaign_id: int, limit: int, claim: int, now: datetime, account_id: int | None = None
) -> list[int]:
    """pending → queued under ``claim`` for up to ``limit`` of the campaign's due messages, in
    id order, in one statement (rows another claimer holds are skipped); returns their ids.
    ``account_id``: the account that will send them, recorded on each (the tick's budget
    counts queued messages by it)."""
    claimed = claim_pending_batches(
        campaign_id=campaign_id, limit=limit, size=max(1, limit), first_claim=claim, now=now, account_id=account_id
    )
    return claimed[0] if claimed else []


def claim_pending_batches(
    *, campaign_id: int, limit: int, size: int, first_claim: int, now: datetime, account_id: int | None = None
) -> list[list[int]]:
    """:func:`claim_pending` for several batches in one statement: up to ``limit`` due
    messages in id order, cut into batches of ``size``, batch *k* under claim
    ``first_claim + k``; returns each batch's ids, batch 0 first. One statement and one
    commit for a tick's round of batches, not one of each per batch."""
    table = quoted_table(Message)
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            # The row numbers come from outside the locking subquery: PostgreSQL allows no
            # window function next to FOR UPDATE.
            f"WITH picked AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM ("
            f"SELECT id FROM {table} WHERE campaign_id = %s AND status = %s "
            f"AND (not_before IS NULL OR not_before <= %s) ORDER BY id LIMIT %s{lock}) due) "
            f"UPDATE {table} SET status = %s, claim = %s + picked.k / %s, updated_at = %s, "
            f"account_id = COALESCE(%s, account_id) FROM picked WHERE {table}.id = picked.id RETURNING {table}.id",
            [campaign_id, S.PENDING, now, limit, S.QUEUED, first_claim, size, now, account_id],
        )
        ids = sorted(message_id for (message_id,) in cursor.fetchall())
    if ids:
        message_events(Message.objects.filter(id__any=ids, status=S.QUEUED, updated_at=now), now=now)
    return [ids[k : k + size] for k in range(0, len(ids), size)]


def claim_routed(*, selection: tuple[str, list[Any]], account_id: int, claim: int, now: datetime) -> list[int]:
    """Routes (``campaigns.services.routing``): pending → queued under ``claim`` for the
    messages ``selection`` (SQL selecting ``id``s, locking them) gave ``account_id``, in one
    statement; the account is recorded on each, and a message that had another account
    before says so in its ``route_note``. Returns their ids."""
    sql, params = selection
    table = quoted_table(Message)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, claim = %s, updated_at = %s, account_id = %s, "
            f"route_note = CASE WHEN account_id <> %s AND route_note = '' "
            f"THEN 'moved off account ' || account_id ELSE route_note END "
            f"WHERE id IN ({sql}) AND status = %s RETURNING id",
            [S.QUEUED, claim, now, account_id, account_id, *params, S.PENDING],
        )
        ids = sorted(message_id for (message_id,) in cursor.fetchall())
    if ids:
        message_events(Message.objects.filter(id__any=ids, status=S.QUEUED, updated_at=now), now=now)
    return ids


def suppress_pending(messages: QuerySet[Message], *, reason: str) -> int:
    """Messages not yet claimed become ``suppressed`` (an opt-out arrived meanwhile)."""
    now = timezone.now()
    moved = messages.filter(status=S.PENDING).update(status=S.SUPPRESSED, reason=reason, updated_at=now)
    if moved:
        message_events(messages.filter(status=S.SUPPRESSED, updated_at=now), now=now)
    return moved


# -- the sanctioned steps back -----------------------------------------------------------


def back_to_pending(
    messages: QuerySet[Message], *, now: datetime, not_before: datetime | None = None, route_note: str | None = None
) -> int:
    """The one step back: queued (claimed, not yet handed to a transport) → pending, the claim
    dropped, so a stale batch skips them; ``not_before`` holds a retry off for its backoff.

    For a paused campaign, a batch that will not send (campaign paused, transport stopped),
    a batch lost in the broker, and a part to retry after a transient submit error.
    ``route_note``: a route moves them off an account that cannot send (why, in words).
    """
    fields: dict[str, Any] = {"status": S.PENDING, "claim": None, "updated_at": now}
    if not_before is not None:
        fields["not_before"] = not_before
    if route_note is not None:
        fields["route_note"] = route_note[:200]
    moved = messages.filter(status=S.QUEUED).update(**fields)
    if moved:
        message_events(messages.filter(status=S.PENDING, updated_at=now), now=now)
    return moved


def cancel_unsent(messages: QuerySet[Message], *, reason: str, now: datetime) -> int:
    """Messages not handed to a transport yet (pending, queued) are cancelled with their campaign."""
    moved = messages.filter(status__in=[S.PENDING, S.QUEUED]).update(
        status=S.CANCELLED, reason=reason, updated_at=now, done_at=now
    )
    if moved:
        message_events(messages.filter(status=S.CANCELLED, updated_at=now), now=now)
    return moved


def cancel_pending_parts(message_ids: Sequence[int], *, now: datetime) -> int:
    """Parts waiting for a retry of a cancelled campaign's messages are cancelled."""
    return MessagePart.objects.filter(message_id__any=list(message_ids), status=S.PENDING).update(
        status=S.CANCELLED, updated_at=now, done_at=now
    )


# -- campaigns ---------------------------------------------------------------------------


def move_campaign(campaign_id: int, status: str, *, only_from: Collection[str] | None = None, **fields: Any) -> int:
    """Set a campaign's status (and ``fields``), if it is still in one of ``only_from``
    (None: whatever it is; the caller checked). Returns 1 if it moved, else 0; a move
    writes its ``campaign.status`` event."""
    campaigns = Campaign.objects.filter(id=campaign_id)
    if only_from is not None:
        campaigns = campaigns.filter(status__in=list(only_from))
    moved = campaigns.update(status=status, **fields)
    if moved:
        campaign_events(Campaign.objects.filter(id=campaign_id, status=status), now=timezone.now())
    return moved


# -- parts as answered -------------------------------------------------------------------

PART_COLUMNS = (
    ("message_id", "bigint"),
    ("account_id", "bigint"),
    ("index", "int"),
    ("status", "text"),
    ("provider_message_id", "text"),
    ("local_message_id", "text"),
    ("error_code", "int"),
    ("error", "text"),
    ("attempts", "int"),
    ("submitted_at", "timestamptz"),
    ("done_at", "timestamptz"),
)


@dataclass(frozen=True)
class PartRow:
    """A part as it is to be stored: (message_id, index) is its key."""

    message_id: int
    account_id: int
    index: int
    status: str
    provider_message_id: str | None = None
    local_message_id: str | None = None
    error_code: int | None = None
    error: str = ""
    attempts: int = 0
    submitted_at: datetime | None = None

    def values(self, now: datetime) -> tuple:
        done_at = now if self.status in FINAL_STATUSES else None
        return (
            self.message_id,
            self.account_id,
            self.index,
            self.status,
            self.provider_message_id,
            self.local_message_id,
            self.error_code,
            self.error[:255],
            self.attempts,
            self.submitted_at,
            done_at,
        )


def write_parts(rows: Sequence[PartRow], now: datetime) -> list[tuple[int, int, str]]:
    """Insert parts already answered, or move existing ones forward (a retry, a part settled
    as "unknown" whose late answer still brings its id), by one INSERT … ON CONFLICT per
    chunk; returns (message_id, index, status) as stored."""
    table = quoted_table(MessagePart)
    names = [name for name, _ in PART_COLUMNS]
    columns = ", ".join(connection.ops.quote_name(n) for n in [*names, "updated_at"])
    select = ", ".join(f"v.{connection.ops.quote_name(n)}" for n in names)
    forward = f"{rank_sql('excluded.status')} > {rank_sql(f'{table}.status')}"
    # A retry (pending → pending with one more attempt) is not a rank move but must apply.
    applies = f"({forward} OR (excluded.status = '{S.PENDING}' AND {table}.status = '{S.PENDING}'))"

    def pick(column: str) -> str:
        return f"{column} = CASE WHEN {applies} THEN excluded.{column} ELSE {table}.{column} END"

    conflict = (
        'ON CONFLICT (message_id, "index") DO UPDATE SET '
        # account_id: a route may resend a retried part through another account.
        + ", ".join(pick(c) for c in ("status", "error_code", "error", "done_at", "account_id"))
        + f", provider_message_id = COALESCE({table}.provider_message_id, excluded.provider_message_id)"
        f", local_message_id = COALESCE({table}.local_message_id, excluded.local_message_id)"
        f", attempts = CASE WHEN excluded.attempts > {table}.attempts THEN excluded.attempts"
        f" ELSE {table}.attempts END"
        f", submitted_at = COALESCE({table}.submitted_at, excluded.submitted_at)"
        f", updated_at = excluded.updated_at"
    )
    stored: list[tuple[int, int, str]] = []
    for start in range(0, len(rows), CHUNK_ROWS):
        chunk = rows[start : start + CHUNK_ROWS]
        source, params = values_source(PART_COLUMNS, [r.values(now) for r in chunk])
        # "WHERE true" keeps SQLite from reading ON CONFLICT as part of the SELECT's join.
        sql = (
            f"INSERT INTO {table} ({columns}) SELECT {select}, %s FROM {source} WHERE true {conflict} "
            f'RETURNING message_id, "index", status'
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [now, *params])
            stored.extend(cursor.fetchall())
    return stored


def settle_sql(source: str) -> str:
    """The one UPDATE that settles the parts of the due messages ``source`` (a table ``v`` of
    message_id, reason) as "unknown"; parameters: unknown, now, the source's, accepted."""
    part = quoted_table(MessagePart)
    return (
        f"UPDATE {part} SET status = %s, error = v.reason, updated_at = %s FROM {source} "
        f"WHERE {part}.message_id = v.message_id AND {part}.status = %s"
    )


def settle_unanswered(due: Sequence[tuple[int, str]], *, now: datetime) -> int:
    """Every still "accepted" part of these messages becomes "unknown" with its message's
    reason (the receipt deadline's words), in one UPDATE … FROM, and the messages roll up
    with that reason. Returns how many parts were settled."""
    if not due:
        return 0
    source, params = values_source([("message_id", "bigint"), ("reason", "text")], due)
    with connection.cursor() as cursor:
        cursor.execute(settle_sql(source), [S.UNKNOWN, now, *params, S.ACCEPTED])
        settled = max(cursor.rowcount, 0)
    by_reason: dict[str, list[int]] = defaultdict(list)
    for message_id, reason in due:
        by_reason[reason].append(message_id)
    for reason, message_ids in by_reason.items():
        roll_up_messages(message_ids, unknown_reason=reason, now=now)
    return settled


# -- the roll-up -------------------------------------------------------------------------


def part_statuses(message_ids: Iterable[int]) -> dict[int, list[str]]:
    """Every part status of these messages, in one read (for roll-ups)."""
    parts: dict[int, list[str]] = defaultdict(list)
    id_list = list(set(message_ids))
    if id_list:
        for message_id, status in MessagePart.objects.filter(message_id__any=id_list).values_list(
            "message_id", "status"
        ):
            parts[message_id].append(status)
    return parts


def without_deadline_reason(column: str) -> Case:
    """``column`` emptied if it holds the receipt deadline's words, else kept: a receipt that
    comes after the deadline makes them untrue (a plain value in the UPDATE, no extra read)."""
    return Case(When(**{f"{column}__startswith": DEADLINE_REASON_PREFIX}, then=Value("")), default=F(column))


def roll_up(
    statuses_by_message: dict[int, list[str]],
    *,
    now: datetime | None = None,
    unknown_reason: str = "",
    segments: bool = False,
) -> dict[str, list[int]]:
    """Each message to the roll-up of its parts' statuses (all of them), forward-only, in one
    UPDATE per resulting status (and part count, with ``segments``: the submit path records
    how many parts a message has); on a campaign that is nearly always one statement.

    A message becoming "accepted" gets its ``submitted_at`` (the receipt deadline's clock), a
    final one its ``done_at``. One becoming "unknown" gets ``unknown_reason`` when one is
    given (the receipt deadline's words); one moving to any other status loses those words,
    if it had them. Returns message ids by the status they were rolled up to.
    """
    now = now or timezone.now()
    groups: dict[tuple[str, int], list[int]] = defaultdict(list)
    for mid, statuses in statuses_by_message.items():
        if statuses:
            groups[(rollup(statuses), len(statuses) if segments else 0)].append(mid)
    table = quoted_table(Message)
    by_status: dict[str, list[int]] = defaultdict(list)
    for (status, count), ids in groups.items():
        by_status[status].extend(ids)
        below_sql, below = member_of("status", statuses_below(status), cast="text")
        sets, params = ["status = %s", "updated_at = %s"], [status, now]
        if segments:
            sets.append("segments = %s")
            params.append(count)
        if status == S.ACCEPTED:
            sets.append("submitted_at = %s")
            params.append(now)
        if status in FINAL_STATUSES:
            sets.append("done_at = %s")
            params.append(now)
        if status == S.UNKNOWN and unknown_reason:
            sets.append("reason = %s")
            params.append(unknown_reason)
        elif status != S.UNKNOWN:
            sets.append("reason = CASE WHEN reason LIKE %s THEN '' ELSE reason END")
            params.append(f"{DEADLINE_REASON_PREFIX}%")
        for start in range(0, len(ids), CHUNK_ROWS):
            chunk = ids[start : start + CHUNK_ROWS]
            ids_sql, id_params = member_of("id", chunk)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET {', '.join(sets)} WHERE {ids_sql} AND {below_sql}",
                    [*params, *id_params, *below],
                )
                moved = cursor.rowcount
            if moved:
                message_events(Message.objects.filter(id__any=chunk, status=status, updated_at=now), now=now)
    return by_status


def roll_up_messages(
    message_ids: Iterable[int], *, unknown_reason: str = "", now: datetime | None = None
) -> dict[str, list[int]]:
    """:func:`roll_up` of these messages from their parts as stored (one read of the parts)."""
    return roll_up(part_statuses(message_ids), now=now, unknown_reason=unknown_reason)


def roll_up_answered(
    stored: Sequence[tuple[int, int, str]], totals: dict[int, int | None], *, now: datetime
) -> dict[str, list[int]]:
    """:func:`roll_up` of the messages of ``totals`` (each one's part count), with their
    part counts: a message whose parts all came back in ``stored`` (as
    :func:`write_parts` returns them) is rolled up from them; any other (count None, or
    only some parts in hand) from its parts as stored."""
    in_hand: dict[int, dict[int, str]] = defaultdict(dict)
    for message_id, index, status in stored:
        in_hand[message_id][index] = status
    statuses = {
        mid: list(parts.values())
        for mid, parts in in_hand.items()
        if totals.get(mid) is not None and len(parts) >= totals[mid]
    }
    statuses.update(part_statuses([mid for mid in totals if mid not in statuses]))
    return roll_up(statuses, now=now, segments=True)
