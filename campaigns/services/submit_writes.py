"""Recording what the provider answered: parts as answered, messages rolled up from them.

A part row is first written when the provider has answered it (or when its answer is given
up as "unknown"), already in its status, by one INSERT … ON CONFLICT per chunk
(:func:`.status.write_parts`): no row is written before sending and updated after. Messages
follow by the one roll-up (:func:`.status.roll_up`); a message with a part to retry goes
back to pending after its backoff (:func:`.status.back_to_pending`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from campaigns.models import BatchInFlight, Message, MessagePart
from campaigns.services import routing, status
from campaigns.services.bulk_sql import update_from_values
from campaigns.services.provider_fields import provider_id_problem, storable_int, storable_text
from campaigns.services.senders import PartToSend, SubmitOutcome
from campaigns.services.status import PartRow
from campaigns.statuses import MessageStatus as S

MAX_SUBMIT_ATTEMPTS = 5
RETRY_BACKOFF_S = (1, 5, 15, 60, 300)
OUTCOMES = frozenset({"accepted", "failed", "unknown", "retry"})


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
        if any(r.outcome == "failed" for r in results):
            results = routing.reroute_refusals(results)  # routes: retried once on the next account
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
        by_status = status.roll_up(fresh, now=now, segments=True)
        stored = status.write_parts(rows, now)
        others = {m: n for m, n in totals.items() if m not in fresh}
        for rolled, ids in status.roll_up_answered(stored, others, now=now).items():
            by_status[rolled].extend(ids)
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
        status.back_to_pending(Message.objects.filter(id__any=ids), now=now, not_before=now + timedelta(seconds=delay))
