"""Recording what the provider answered: parts as answered, messages rolled up from them.

A part row is first written when the provider has answered it (or when its answer is given
up as "unknown"), already in its status, by one INSERT … ON CONFLICT per chunk: no row is
written before sending and updated after. The ON CONFLICT branch covers parts that exist
already (a retry, a part settled as "unknown" whose late answer still brings its id) and
keeps statuses forward-only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from campaigns.models import BatchInFlight, Message, MessagePart
from campaigns.services.bulk_sql import member_of, quoted_table, rank_sql, update_from_values, values_source
from campaigns.services.provider_fields import provider_id_problem, storable_int, storable_text
from campaigns.services.senders import PartToSend, SubmitOutcome
from campaigns.services.status import part_statuses
from campaigns.statuses import FINAL_STATUSES, MessageStatus, rollup, statuses_below

S = MessageStatus
MAX_SUBMIT_ATTEMPTS = 5
RETRY_BACKOFF_S = (1, 5, 15, 60, 300)
OUTCOMES = frozenset({"accepted", "failed", "unknown", "retry"})
CHUNK_ROWS = 2000  # rows per statement (within SQLite's 32766 parameters with eleven columns)

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
        return (self.message_id, self.account_id, self.index, self.status, self.provider_message_id,
                self.local_message_id, self.error_code, self.error[:255], self.attempts, self.submitted_at,
                done_at)  # fmt: skip


def write_parts(rows: Sequence[PartRow], now: datetime) -> list[tuple[int, int, str]]:
    """Insert parts, or move existing ones forward; returns (message_id, index, status) as stored."""
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
        + ", ".join(pick(c) for c in ("status", "error_code", "error", "done_at"))
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


def roll_up(
    stored: Sequence[tuple[int, int, str]], totals: dict[int, int | None], now: datetime
) -> dict[str, list[int]]:
    """Set each message of ``totals`` to the status of its parts, forward-only; returns
    message ids by status.

    ``totals`` is each message's part count: a message whose parts all came back in
    ``stored`` is rolled up from them; any other (count None, or only some parts in hand)
    is read back from the database.
    """
    in_hand: dict[int, dict[int, str]] = defaultdict(dict)
    for message_id, index, status in stored:
        in_hand[message_id][index] = status
    statuses = {
        mid: list(parts.values())
        for mid, parts in in_hand.items()
        if totals.get(mid) is not None and len(parts) >= totals[mid]
    }
    statuses.update(part_statuses([mid for mid in totals if mid not in statuses]))
    return set_message_statuses(statuses, now)


def set_message_statuses(statuses_by_message: dict[int, list[str]], now: datetime) -> dict[str, list[int]]:
    """Each message to the roll-up of its parts' statuses (all of them), forward-only, in one
    UPDATE per (status, segments) group, which on a campaign is nearly always one."""
    groups: dict[tuple[str, int], list[int]] = defaultdict(list)
    for mid, statuses in statuses_by_message.items():
        if statuses:
            groups[(rollup(statuses), len(statuses))].append(mid)
    table = quoted_table(Message)
    by_status: dict[str, list[int]] = defaultdict(list)
    for (status, segments), ids in groups.items():
        by_status[status].extend(ids)
        below_sql, below = member_of("status", statuses_below(status), cast="text")
        extra = ", submitted_at = %s" if status == S.ACCEPTED else ""
        extra += ", done_at = %s" if status in FINAL_STATUSES else ""
        for start in range(0, len(ids), CHUNK_ROWS):
            ids_sql, id_params = member_of("id", ids[start : start + CHUNK_ROWS])
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET status = %s, segments = %s, updated_at = %s{extra} "
                    f"WHERE {ids_sql} AND {below_sql}",
                    [status, segments, now, *([now] * extra.count("%s")), *id_params, *below],
                )
    return by_status


def record_submit_results(
    *, batch_id: int | None, outcomes: Iterable[SubmitOutcome], now: datetime | None = None
) -> None:
    """Record a chunk's answers: its parts inserted as answered, its messages rolled up,
    and the batch's on-wire list cleared, in one transaction."""
    now = now or timezone.now()
    results = list(outcomes)
    unexpected = {r.outcome for r in results} - OUTCOMES
    if unexpected:
        raise ValueError(f"unknown submit outcomes: {sorted(unexpected)}")
    totals = {r.part.message_id: r.part.total for r in results}
    with transaction.atomic():
        attempts = _attempts_so_far([r.part for r in results if r.outcome == "retry"])
        rows = [_as_row(r, attempts, now) for r in results]
        # First sends (nearly all) roll up from the answers in hand, and the messages are
        # updated before their parts are inserted: the deferred foreign-key check then finds
        # rows this transaction already wrote. Messages seen before are read back.
        fresh: dict[int, list[str]] = defaultdict(list)
        for result, row in zip(results, rows, strict=True):
            if result.part.first_send:
                fresh[row.message_id].append(row.status)
        fresh = {mid: sts for mid, sts in fresh.items() if len(sts) == totals[mid]}
        by_status = set_message_statuses(fresh, now)
        stored = write_parts(rows, now)
        for status, ids in roll_up(stored, {m: n for m, n in totals.items() if m not in fresh}, now).items():
            by_status[status].extend(ids)
        _schedule_retries(by_status.get(S.PENDING, []), attempts, totals, now)
        if batch_id is not None:
            BatchInFlight.objects.filter(id=batch_id).update(on_wire=[], heartbeat_at=now)


def _as_row(r: SubmitOutcome, attempts: dict[tuple[int, int], int], now: datetime) -> PartRow:
    """The part row of one answer. What the provider sent is made storable first (see
    :mod:`.provider_fields`): a value the database would refuse fails this part, not the chunk."""
    p = r.part
    common = {"message_id": p.message_id, "account_id": p.account_id, "index": p.index}
    code, error = storable_int(r.error_code), storable_text(r.error)
    if r.outcome != "retry":  # a retried part gets a new id when it is sent again
        common["local_message_id"] = p.local_message_id
    if r.outcome == "accepted":
        provider_id = storable_text(r.provider_message_id) if r.provider_message_id is not None else None
        problem = provider_id_problem(provider_id)
        if problem:  # accepted, so maybe delivered, but no receipt can ever say so
            return PartRow(**common, status=S.UNKNOWN, error=problem, submitted_at=now)
        return PartRow(**common, status=S.ACCEPTED, provider_message_id=provider_id, submitted_at=now)
    if r.outcome == "failed":
        return PartRow(**common, status=S.FAILED, error_code=code, error=error, submitted_at=now)
    if r.outcome == "unknown":
        return PartRow(**common, status=S.UNKNOWN, error=error or "no response from the SMSC", submitted_at=now)
    tries = attempts.get(p.key, 0) + 1
    if tries >= MAX_SUBMIT_ATTEMPTS:
        error = f"gave up after {MAX_SUBMIT_ATTEMPTS} tries: {error}"
        return PartRow(**common, status=S.FAILED, error_code=code, error=error, attempts=tries)
    return PartRow(**common, status=S.PENDING, error_code=code, error=error, attempts=tries)


def _attempts_so_far(parts: list[PartToSend]) -> dict[tuple[int, int], int]:
    """Earlier attempts of parts answered "retry" (only these need the read)."""
    if not parts:
        return {}
    rows = MessagePart.objects.filter(message_id__any=[p.message_id for p in parts]).values_list(
        "message_id", "index", "attempts"
    )
    return {(mid, index): n for mid, index, n in rows}


def _schedule_retries(
    message_ids: list[int], attempts: dict[tuple[int, int], int], totals: dict[int, int], now: datetime
) -> None:
    """Messages with a part to retry go back to pending, not before their backoff is over."""
    if not message_ids:
        return
    update_from_values(Message, columns=["segments"], rows=[(mid, totals[mid]) for mid in message_ids])
    by_message: dict[int, int] = {}
    for (mid, _), n in attempts.items():
        by_message[mid] = max(by_message.get(mid, 0), n)
    by_delay: dict[int, list[int]] = {}
    for mid in message_ids:
        delay = RETRY_BACKOFF_S[min(by_message.get(mid, 0), len(RETRY_BACKOFF_S) - 1)]
        by_delay.setdefault(delay, []).append(mid)
    for delay, ids in by_delay.items():
        Message.objects.filter(id__any=ids, status=S.QUEUED).update(
            status=S.PENDING, claim=None, not_before=now + timedelta(seconds=delay), updated_at=now
        )
