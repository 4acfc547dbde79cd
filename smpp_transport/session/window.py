"""Bookkeeping of the parts a bind is sending: queue, retry order, in-flight window, results.

Kept apart from the threads and sockets so the rules can be read in one place:

* each ``submit()`` call's parts are sent in its order; concurrent flows (campaigns) take
  turns, a part each, and parts the caller paces (a capped campaign's, handed at its
  slot) go first (:class:`Turns`), so the bind's queue does not eat into their pace. A
  throttled part goes back into a retry heap ordered by its original position and is
  always sent before any part that was never sent, so a throttling SMSC causes neither
  loss nor reordering;
* at most ``size`` submit_sm are outstanding; a slot is reserved when a part is taken for
  sending and released by its response, a generic_nack, a response timeout or an unsent
  write;
* every part ends with exactly one result: ``_resolve`` is idempotent and ``submit()``
  callers wait on their batch's event.

Not thread-safe: every method must be called with the owning bind's lock held.
"""

from __future__ import annotations

import heapq
import threading
from collections import deque
from collections.abc import Iterable, Sequence

from smpp_transport.session.codec import classify, status_name
from smpp_transport.session.pacing import Pacer
from smpp_transport.session.types import OutboundPart, SubmitResult

__all__ = ["Batch", "Entry", "SubmitWindow", "Turns"]

QUEUED, SENDING, INFLIGHT, DONE = range(4)


class Batch:
    """The parts of one ``submit()`` call and their results, in the caller's order."""

    __slots__ = ("entries", "results", "remaining", "done")

    def __init__(self, size: int) -> None:
        self.entries: list[Entry] = []
        self.results: list[SubmitResult | None] = [None] * size
        self.remaining = size
        self.done = threading.Event()


class Entry:
    """One part on its way: where it is (``state``) and how often it was throttled."""

    __slots__ = (
        "part",
        "batch",
        "index",
        "order",
        "state",
        "throttles",
        "deadline",
        "slot",
        "answered_at",
        "written_at",
    )

    def __init__(self, part: OutboundPart, batch: Batch, index: int, order: int) -> None:
        self.part = part
        self.batch = batch
        self.index = index
        self.order = order
        self.state = QUEUED
        self.throttles = 0
        self.deadline = 0.0
        # The pacer's slot for this send and when its answer was read (see Pacer.answered).
        self.slot: list[float] | None = None
        self.answered_at: float | None = None
        self.written_at: float | None = None  # reported with the result (a caller's own pacing)


class _RoundRobin:
    """Queues of entries by flow, served a part per turn; within a flow, in order."""

    __slots__ = ("flows", "order")

    def __init__(self) -> None:
        self.flows: dict[object, deque[Entry]] = {}
        self.order: deque[object] = deque()

    def add(self, key: object, entries: list[Entry]) -> None:
        queue = self.flows.get(key)
        if queue is None:
            queue = self.flows[key] = deque()
            self.order.append(key)
        queue.extend(entries)

    def popleft(self) -> Entry:
        key = self.order.popleft()
        queue = self.flows[key]
        entry = queue.popleft()
        if queue:
            self.order.append(key)
        else:
            del self.flows[key]
        return entry


class Turns:
    """Queued parts, served in turns by flow (a campaign; without one, each ``submit()``
    call is its own), parts the caller paces first.

    A campaign that queues chunk after chunk gets one turn, like any other; a capped
    campaign's part, handed at its slot (``paced``), goes before bulk parts, so the bind's
    queue does not eat into the pace (such parts are few: the caller sends them at its
    cap). Within a flow parts keep their order."""

    __slots__ = ("_paced", "_bulk", "_count")

    def __init__(self) -> None:
        self._paced = _RoundRobin()
        self._bulk = _RoundRobin()
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def extend(self, entries: list[Entry]) -> None:
        if not entries:
            return
        first = entries[0].part
        if any(e.part.flow != first.flow or e.part.paced != first.paced for e in entries):
            for entry in entries:  # mixed flows in one call (rare): each to its own
                self.extend([entry])
            return
        level = self._paced if first.paced else self._bulk
        level.add(entries[0].batch if first.flow is None else first.flow, entries)
        self._count += len(entries)

    def popleft(self) -> Entry:
        level = self._paced if self._paced.order else self._bulk
        self._count -= 1
        return level.popleft()


class SubmitWindow:
    """Queue + retry heap + in-flight map for one bind (see the module docstring)."""

    def __init__(self, size: int, pacer: Pacer, max_throttle_retries: int) -> None:
        self.size = size
        self.pacer = pacer
        self.max_throttle_retries = max_throttle_retries
        self.pending = Turns()
        self.retry: list[tuple[int, Entry]] = []
        # seq -> entry, in send order: the first item always has the earliest deadline.
        self.inflight: dict[int, Entry] = {}
        self.used = 0
        self.high_water = 0
        self._order = 0
        self.submitted = 0
        self.responses: dict[int, int] = {}
        self.throttles = 0
        self.timeouts = 0
        self.late = 0

    # -- callers' side -------------------------------------------------------------------
    def enqueue(self, parts: Sequence[OutboundPart]) -> Batch:
        batch = Batch(len(parts))
        order = self._order
        entries = [Entry(part, batch, i, order + i) for i, part in enumerate(parts)]
        self._order += len(parts)
        batch.entries = entries
        self.pending.extend(entries)
        return batch

    def cancel_unsent(self, batch: Batch, outcome: str = "retry") -> int:
        """Resolve the batch's parts that are not on the wire yet (the sender skips them)."""
        cancelled = 0
        for entry in batch.entries:
            if entry.state == QUEUED:
                self._resolve(entry, outcome, None, None)
                cancelled += 1
        return cancelled

    def resolve_all(self, batch: Batch, outcome: str) -> None:
        for entry in batch.entries:
            self._resolve(entry, outcome, None, None)

    # -- sender's side -------------------------------------------------------------------
    @property
    def has_queued(self) -> bool:
        return bool(self.pending or self.retry)

    @property
    def queued(self) -> int:
        return len(self.pending) + len(self.retry)

    def take(self, now: float) -> list[Entry]:
        """Reserve slots for the parts that may be written at ``now`` (retries first)."""
        room = self.size - self.used
        if room <= 0 or not (self.pending or self.retry):
            return []
        if self.pacer.earliest(now) > now:
            return []
        if self.pacer.paced:
            room = 1  # one per pacing decision; the next waits for its own deadline
        taken: list[Entry] = []
        retry, pending = self.retry, self.pending
        while room:
            if retry:
                entry = heapq.heappop(retry)[1]
            elif pending:
                entry = pending.popleft()
            else:
                break
            if entry.state != QUEUED:
                continue  # cancelled by its caller
            entry.state = SENDING
            taken.append(entry)
            room -= 1
        self.used += len(taken)
        if self.used > self.high_water:
            self.high_water = self.used
        return taken

    def next_send_at(self, now: float) -> float | None:
        """When ``take`` could next return something without an event (None: wait)."""
        if self.used >= self.size or not (self.pending or self.retry):
            return None
        return self.pacer.earliest(now)

    def register(self, sent: Iterable[tuple[int, Entry]], deadline: float) -> None:
        inflight = self.inflight
        for seq, entry in sent:
            entry.state = INFLIGHT
            entry.deadline = deadline
            entry.slot = entry.answered_at = None
            inflight[seq] = entry

    def written(self, entry: Entry, at: float) -> None:
        """A paced ``entry`` was written at ``at`` (its answer may already be in)."""
        slot = self.pacer.record(at)
        if entry.answered_at is not None:
            self.pacer.answered(slot, entry.answered_at)
        else:
            entry.slot = slot

    def unsent(self, sent: Iterable[tuple[int, Entry]]) -> None:
        """These were registered but never wholly written: put them back, in order."""
        for seq, entry in sent:
            if self.inflight.pop(seq, None) is entry:
                self.used -= 1
                self._requeue(entry)

    def release_unbuilt(self, entry: Entry, reason: str) -> None:
        """A taken part smpplib could not encode: it fails for good (resending won't help)."""
        self.used -= 1
        self._resolve(entry, "failed", None, None, name=reason)

    def oldest_deadline(self) -> float | None:
        for entry in self.inflight.values():
            return entry.deadline
        return None

    def expire(self, now: float) -> int:
        """In-flight parts past their response deadline become ``unknown``."""
        inflight = self.inflight
        expired = 0
        while inflight:
            seq = next(iter(inflight))
            entry = inflight[seq]
            if entry.deadline > now:
                break
            del inflight[seq]
            self.used -= 1
            self._resolve(entry, "unknown", None, None)
            expired += 1
        self.timeouts += expired
        return expired

    def fail_queued(self, outcome: str = "retry") -> int:
        count = 0
        while self.retry:
            entry = heapq.heappop(self.retry)[1]
            if entry.state == QUEUED:
                self._resolve(entry, outcome, None, None)
                count += 1
        while self.pending:
            entry = self.pending.popleft()
            if entry.state == QUEUED:
                self._resolve(entry, outcome, None, None)
                count += 1
        return count

    def fail_inflight(self, outcome: str = "unknown") -> int:
        count = len(self.inflight)
        for entry in self.inflight.values():
            self._resolve(entry, outcome, None, None)
        self.inflight.clear()
        self.used = 0
        return count

    # -- reader's side -------------------------------------------------------------------
    def on_response(self, seq: int, status: int, message_id: str | None, read_at: float) -> bool | None:
        """Apply a submit_sm_resp / generic_nack read at ``read_at``. Returns True when it
        was a throttle, False for any other known sequence, None for an unknown (late) one."""
        entry = self.inflight.pop(seq, None)
        if entry is None:
            self.late += 1
            return None
        self.used -= 1
        entry.answered_at = read_at
        if entry.slot is not None:
            self.pacer.answered(entry.slot, read_at)
        self.responses[status] = self.responses.get(status, 0) + 1
        if status == 0:
            self._resolve(entry, "accepted", 0, message_id)
            return False
        kind = classify(status)
        if kind == "throttle":
            self.throttles += 1
            entry.throttles += 1
            if entry.throttles > self.max_throttle_retries:
                self._resolve(entry, "retry", status, None)
            else:
                self._requeue(entry)
            return True
        self._resolve(entry, kind, status, None)
        return False

    # -- internals -----------------------------------------------------------------------
    def _requeue(self, entry: Entry) -> None:
        entry.state = QUEUED
        heapq.heappush(self.retry, (entry.order, entry))

    def _resolve(
        self, entry: Entry, outcome: str, status: int | None, message_id: str | None, name: str | None = None
    ) -> None:
        if entry.state == DONE:
            return
        entry.state = DONE
        batch = entry.batch
        if status is not None and name is None:
            name = status_name(status)
        batch.results[entry.index] = SubmitResult(
            entry.part.ref,
            outcome,
            status,
            name,
            message_id if status == 0 else None,
            entry.written_at,
        )
        batch.remaining -= 1
        if not batch.remaining:
            batch.done.set()
