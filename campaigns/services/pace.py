"""A capped campaign's send rate as a pace: slots reserved in the database at send time.

Why a pace and not a budget: the tick used to hand a capped campaign ``send_rate ×
horizon`` messages, less what was still queued, every tick. The binds sent each handful as
fast as they could and the next tick refilled it, so a cap of 20/s reached the SMSC at
39/s. Now the send rate says *when* each segment may go, and the tick's budget only keeps
enough queued for the pace (see ``campaigns.services.shares``).

How: GCRA (the generic cell rate algorithm, a "theoretical arrival time") with no burst
tolerance, one ``CampaignPace`` row per capped campaign. Before a chunk of a capped
campaign's parts goes out, one statement reserves a slot per part::

    tat = greatest(tat, now) + parts / rate        -- returning tat

so the chunk owns the slots ``tat - parts/rate, …, tat - 1/rate``, and the send loop hands
each part to the transport no earlier than its slot. A part is one SMS segment (an MMS is
one part), so the pace counts segments, as the bind's own pacer does. A campaign that has
sent nothing for a while starts again at "now": it never catches up.

* At send time, not at claim time: a batch claimed early, delayed in the broker, or
  redelivered after a crash has no slots until it is about to send, so it cannot burst.
* In the database: the row serialises every reservation of the campaign, whichever bind,
  process or host makes it (on SQLite too), so slots never overlap.
* On the database's clock (PostgreSQL's ``clock_timestamp()``): reservations from several
  hosts order on one clock, and each worker turns a slot into its own monotonic clock by its
  distance from the database's "now", so clock skew between hosts does not matter.
* Late parts do not crowd: if a send comes back more than one slot (at least
  ``LATE_MIN_S``, at most ``LATE_MAX_S``) after its slot (the bind was throttled, its window
  full), the chunk's remaining messages are not sent late back to back; their slots are
  given back when nobody has reserved after them, and they are reserved afresh from "now".
  Every segment thus reaches the SMSC within one slot of its own, and any one-second window
  holds at most ``cap + 1`` of the campaign's segments.

Waiting for a slot blocks the batch's worker thread: that is the pacing itself, and it is
bounded by what the tick lets a campaign have queued (its cap × the horizon).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from django.db import connection

from campaigns.models import CampaignPace
from campaigns.services.bulk_sql import quoted_table

__all__ = ["CHUNK_S", "Slots", "chunk_parts", "give_back", "next_tat", "reserve", "send_at_slots", "wait_for"]

# A paced chunk holds about this much of the campaign's sending: pause and cancel are seen
# between chunks, and one reservation serves the chunk.
CHUNK_S = 0.5
# How late a send may come back before the rest of its chunk is reserved afresh.
LATE_MIN_S = 0.02  # below this, ordinary round trips would count as late at high caps
LATE_MAX_S = 0.5


class _Part(Protocol):
    @property
    def message_id(self) -> int: ...


P = TypeVar("P", bound=_Part)
R = TypeVar("R")


def next_tat(tat: float | None, now: float, cost: float) -> float:
    """The GCRA step (what the SQL of :func:`reserve` computes): reserve ``cost`` seconds
    of slots at ``now``; the reservation's slots end at the returned time."""
    return max(now if tat is None else tat, now) + cost


@dataclass(frozen=True)
class Slots:
    """A chunk's reserved slots: part ``i`` may be sent from ``at(i)`` (this process's
    monotonic clock). ``tat`` is the campaign's tat this reservation left (database clock)."""

    campaign_id: int
    interval: float
    count: int
    first: float
    tat: float

    def at(self, i: int) -> float:
        return self.first + i * self.interval

    @property
    def late_s(self) -> float:
        return min(LATE_MAX_S, max(LATE_MIN_S, self.interval))


def chunk_parts(rate: float, transport_chunk: int) -> int:
    """How many parts a paced chunk takes: about ``CHUNK_S`` of the pace, at least one."""
    return max(1, min(transport_chunk, int(rate * CHUNK_S)))


def reserve(*, campaign_id: int, rate: float, count: int) -> Slots:
    """Reserve the next ``count`` slots of a campaign paced at ``rate`` segments per second.

    One statement, committed at once (autocommit): ``tat = greatest(tat, now) + count /
    rate``, the row created on the campaign's first reservation.
    """
    if rate <= 0 or count < 1:
        raise ValueError("reserve needs rate > 0 and count >= 1")
    interval = 1.0 / rate
    cost = count * interval
    table = quoted_table(CampaignPace)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"WITH c AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS now) "
                f"INSERT INTO {table} AS p (campaign_id, tat) SELECT %s, c.now + %s FROM c "
                f"ON CONFLICT (campaign_id) DO UPDATE SET tat = greatest(p.tat + %s, EXCLUDED.tat) "
                f"RETURNING p.tat, (SELECT now FROM c)",
                [campaign_id, cost, cost],
            )
        else:
            now = time.time()
            cursor.execute(
                f"INSERT INTO {table} (campaign_id, tat) VALUES (%s, %s) "
                f"ON CONFLICT (campaign_id) DO UPDATE SET tat = max({table}.tat + %s, excluded.tat) "
                f"RETURNING tat, %s",
                [campaign_id, now + cost, cost, now],
            )
        tat, db_now = cursor.fetchone()
    here = time.monotonic()
    return Slots(campaign_id=campaign_id, interval=interval, count=count, first=here + (tat - cost - db_now), tat=tat)


def give_back(slots: Slots, start: int) -> bool:
    """Return the slots from ``start`` on, if nobody has reserved after them (else they
    stay unused: a little less sent, never more). True if they were returned."""
    unused = (slots.count - start) * slots.interval
    if unused <= 0:
        return False
    table = quoted_table(CampaignPace)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET tat = tat - %s WHERE campaign_id = %s AND tat = %s",
            [unused, slots.campaign_id, slots.tat],
        )
        return cursor.rowcount == 1


def wait_for(
    deadline: float, *, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
) -> float:
    """Block until ``deadline`` on ``clock`` (a slot); returns the time it woke."""
    while True:
        now = clock()
        if now >= deadline:
            return now
        sleep(deadline - now)


def send_at_slots(
    parts: Sequence[P],
    slots: Slots,
    send: Callable[[list[P]], list[R]],
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[list[R], list[P]]:
    """Hand each part to ``send`` no earlier than its slot; returns (outcomes, deferred).

    Parts whose slots have come are handed together (at ordinary caps one at a time, as
    a send takes a round trip and slots are tens of milliseconds apart). If a send comes
    back later than ``slots.late_s`` after its slot, the messages not yet started are
    *deferred*: the caller gives their slots back (:func:`give_back`) and reserves them
    afresh. A message's parts are never split (it rolls up from its parts in hand). When
    ``send`` answers fewer parts than it was given, the transport has stopped: the rest is
    neither sent nor deferred, and the caller releases it.
    """
    outcomes: list[R] = []
    i, n, late = 0, len(parts), False
    while i < n:
        now = wait_for(slots.at(i), clock=clock, sleep=sleep)
        late = late or now - slots.at(i) > slots.late_s
        if late and i > 0 and parts[i].message_id != parts[i - 1].message_id:
            return outcomes, list(parts[i:])
        j = i + 1
        if late:  # only the rest of this message, which must not be split
            while j < n and parts[j].message_id == parts[i].message_id:
                j += 1
        else:
            while j < n and slots.at(j) <= now:
                j += 1
        group = list(parts[i:j])
        answered = send(group)
        outcomes.extend(answered)
        if len(answered) < len(group):
            return outcomes, []
        late = clock() - slots.at(i) > slots.late_s
        i = j
    return outcomes, []
