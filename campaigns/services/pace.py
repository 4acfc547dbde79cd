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
  hosts order on one clock, and each worker turns a slot into its own monotonic clock by
  the offset between the two clocks, estimated as NTP does (:class:`ClockOffset`), so
  neither clock skew between hosts nor a slow answer shifts its slots.
* Late parts do not crowd: a part that would go more than one slot late (at least
  ``LATE_MIN_S``; the machine is busy), or before the latest moment the SMSC can have
  stamped the campaign's previous send in this process (:class:`Gate`), skips the slots
  already behind it and takes the next ones. Each segment thus reaches the SMSC within
  about one slot of its own, and any one-second window holds at most ``cap + 1`` of the
  campaign's segments (the property tests check it against arbitrary transport delays).
  Skipped slots are simply not used: a little less is sent, never more.
* The transport helps by sending such parts first (``OutboundPart.paced``): in a bind kept
  busy by an uncapped campaign, a part handed at its slot does not wait behind whole
  chunks, so the pace holds and the capacity is shared as ``shares`` says.

Waiting for a slot blocks the batch's worker thread: that is the pacing itself, and it is
bounded by what the tick lets a campaign have queued (its cap × the horizon).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from django.db import connection

from campaigns.models import CampaignPace
from campaigns.services.bulk_sql import quoted_table

__all__ = [
    "CHUNK_S",
    "MARK_LEAD_S",
    "ClockOffset",
    "Gate",
    "SlotSender",
    "Slots",
    "chunk_parts",
    "gate",
    "give_back",
    "next_tat",
    "reserve",
    "wait_for",
]

# A paced chunk holds about this much of the campaign's sending: pause and cancel are seen
# between chunks, and one reservation serves the chunk.
CHUNK_S = 0.5
# How late a part may go on its slot (one slot, within these bounds) before it skips to a
# later one.
LATE_MIN_S = 0.02  # below this, ordinary round trips would count as late at high caps
LATE_MAX_S = 0.25
# The chunk is marked on the wire this long before its first slot, so that the write is
# done when the slot comes (and a crash while waiting leaves little marked but unsent).
MARK_LEAD_S = 0.1


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
        """How late a message may start on its slot before it takes a later one instead."""
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
    sent = time.monotonic()
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
    offset = _offset.update(db_now, sent, time.monotonic())
    return Slots(campaign_id=campaign_id, interval=interval, count=count, first=tat - cost - offset, tat=tat)


class ClockOffset:
    """The database's clock minus this process's monotonic clock, as NTP estimates it.

    Each reservation brackets the database's "now" between the moment the statement was
    sent and the moment its answer was read; the estimate with the tightest bracket seen
    in the last ``MEMORY_S`` wins (its error is at most half that bracket, well under a
    millisecond), so a reservation whose answer was read late on a busy machine does not
    shift this process's slots by that delay (it would let its parts crowd another
    process's).
    """

    MEMORY_S = 60.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._best: tuple[float, float, float] | None = None  # (bracket, offset, measured at)

    def update(self, db_now: float, sent: float, read: float) -> float:
        bracket, offset = read - sent, db_now - (sent + read) / 2
        with self._lock:
            best = self._best
            if best is None or bracket <= best[0] or read - best[2] > self.MEMORY_S:
                self._best = best = (bracket, offset, read)
            return best[1]


_offset = ClockOffset()


def give_back(slots: Slots, start: int) -> bool:
    """Return the slots from ``start`` on (a chunk that will not be sent: its campaign was
    paused while it waited), if nobody has reserved after them; else they stay unused.
    True if they were returned."""
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


class Gate:
    """What the senders of one campaign share within a process: one send at a time, and
    the latest moment the SMSC can have stamped the last one. A process that stalls (a
    busy machine) releases its threads' parts together when it resumes; through the gate
    they still go a slot apart.

    The stamp lies between the transport's write (an outcome's ``sent_at``, when the
    transport reports it) and the answer, less the fastest round trip seen lately (travel
    time, not delay), as the bind's own pacer reckons (``smpp_transport/session/pacing.py``).
    A part that waited in a busy bind's queue is written late, and paced from its write;
    one whose answer was read late is paced from the answer. Without ``sent_at`` (another
    transport) the answer alone bounds it.
    """

    RTT_MEMORY_S = 30.0

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ready_at = -math.inf  # no part before this (the last stamp + a slot - late_s)
        self._fastest: tuple[float, float] | None = None  # (round trip, measured at)

    def stamped_by(self, outcomes: Sequence[object], answered: float) -> float:
        """The latest moment the SMSC can have stamped these just-answered sends."""
        written = [w for w in (getattr(o, "sent_at", None) for o in outcomes) if w is not None]
        if not written:
            return answered
        last = max(written)
        rtt = max(0.0, answered - last)
        fastest = self._fastest
        if fastest is None or rtt <= fastest[0] or answered - fastest[1] > self.RTT_MEMORY_S:
            self._fastest = fastest = (rtt, answered)
        return max(last, answered - fastest[0])


_gates: dict[int, Gate] = {}
_gates_lock = threading.Lock()


def gate(campaign_id: int) -> Gate:
    """This process's gate for a campaign."""
    with _gates_lock:
        return _gates.setdefault(campaign_id, Gate())


class SlotSender:
    """Hands one batch's parts of one capped campaign to the transport at their slots.

    ``reserve(k)`` reserves ``k`` slots (:func:`reserve` on the database; a stand-in in
    tests). The campaign's senders in this process share a :class:`Gate`: a part goes
    neither more than ``late_s`` after its slot nor before the latest moment the SMSC
    can have stamped the previous one (``ready_at``); a slot that is already behind is
    skipped rather than used late. Each segment thus reaches the SMSC within about one
    slot of a slot of its own, and no one-second window holds more than ``cap + 1`` of the
    campaign's segments. Skipped slots are simply not used: a little less is sent, never
    more.
    """

    def __init__(
        self,
        *,
        rate: float,
        reserve: Callable[[int], Slots],
        gate: Gate,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / rate
        self.gate = gate
        self._reserve, self._clock, self._sleep = reserve, clock, sleep

    def next_slots(self, count: int) -> Slots:
        """Reserve ``count`` slots, none before the campaign's sends here are ready for them."""
        wait_for(self.gate.ready_at, clock=self._clock, sleep=self._sleep)
        return self._reserve(count)

    def send(self, parts: Sequence[P], slots: Slots, send: Callable[[list[P]], list[R]]) -> tuple[list[R], list[P]]:
        """Hand each part to ``send`` at a slot of its own; returns (outcomes, deferred).

        Parts go in order, each at the next free slot, never before it; parts whose slots
        have come are handed together (at ordinary caps one at a time: a send takes a
        round trip, slots are tens of milliseconds apart). A message that no longer fits
        in the slots left is *deferred* with the rest of the chunk: the caller reserves it
        again. A message already begun is finished (it rolls up from its parts in hand, so
        its parts are never split between chunks): if its remaining parts no longer fit,
        they get slots of their own and the rest of the chunk is deferred. When ``send``
        answers fewer parts than it was given, the transport has stopped: the rest is
        neither sent nor deferred, and the caller releases it.
        """
        n, clock, late, gate = len(parts), self._clock, slots.late_s, self.gate
        ends = [0] * n  # ends[i]: the index after the last part of parts[i]'s message
        for k in range(n - 1, -1, -1):
            same = k + 1 < n and parts[k + 1].message_id == parts[k].message_id
            ends[k] = ends[k + 1] if same else k + 1
        times = [slots.at(k) for k in range(slots.count)]
        outcomes: list[R] = []
        i = m = 0  # the next part, and the next free slot
        stop = n  # parts from here on are deferred (set once extra slots were needed)
        while i < stop:
            behind = max(clock() - late, gate.ready_at)
            while m < len(times) and times[m] < behind:
                m += 1
            if m + ends[i] - i > len(times):
                if i == 0 or parts[i].message_id != parts[i - 1].message_id:
                    break
                extra = self.next_slots(ends[i] - i)
                times, m, stop = [extra.at(k) for k in range(extra.count)], 0, ends[i]
                continue
            wait_for(times[m], clock=clock, sleep=self._sleep)
            with gate.lock:
                now = clock()
                if times[m] < max(now - late, gate.ready_at):
                    continue  # another send of the campaign went meanwhile: look again
                j = i + 1
                while j < stop and m + j - i < len(times) and times[m + j - i] <= now:  # due parts go together…
                    if ends[j] != ends[j - 1]:  # …but a message that is behind or does not fit waits
                        if times[m + j - i] < now - late or m + ends[j] - i > len(times):
                            break
                    j += 1
                group = list(parts[i:j])
                answered = send(group)
                gate.ready_at = gate.stamped_by(answered, clock()) + self.interval - late
            outcomes.extend(answered)
            if len(answered) < len(group):
                return outcomes, []
            m += j - i
            i = j
        return outcomes, list(parts[i:])
