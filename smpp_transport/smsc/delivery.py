"""Routing of SMSC-originated deliver_sm (receipts and MO) to receiver binds.

Seed 000: the provider sends a receipt to *any* bound receiver (RX or TRX) of the same
system_id, not necessarily the bind that submitted. A deliver_sm therefore belongs to the
account until a bind acknowledges it: it waits in a per-system_id queue while no receiver
is bound, is re-sent (preferably on another bind) after a non-zero deliver_sm_resp, and goes
back to the front of the queue when its bind drops before answering.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from . import pdu
from .receipts import DeliverItem

if TYPE_CHECKING:
    from .session import BindSession

_encode = pdu.encode_pdu


class DeliveryRouter:
    """Delayed, ready and in-flight deliver_sm of every account, on one event loop."""

    def __init__(self, counters: dict[str, int], retry_delay_s: float, on_sent: Callable[[], None]) -> None:
        self.counters = counters
        self.retry_delay_s = retry_delay_s
        self.receivers: dict[str, list[BindSession]] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self._on_sent = on_sent
        self._turn: dict[str, int] = {}
        self._ready: dict[str, deque[DeliverItem]] = {}
        self._delayed: deque[tuple[float, DeliverItem]] = deque()
        self._retrying: dict[DeliverItem, asyncio.TimerHandle] = {}
        self._flush_handle: asyncio.Handle | None = None
        self._delay_handle: asyncio.TimerHandle | None = None

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start sending on ``loop``; whatever was owed before a restart goes out first."""
        self.loop = loop
        if self._delayed:
            self._delay_handle = loop.call_at(self._delayed[0][0], self._release_delayed)
        self._schedule_flush()

    def detach(self) -> None:
        """Stop timers; items waiting for a retry become ready for the next attach()."""
        for handle in (self._flush_handle, self._delay_handle, *self._retrying.values()):
            if handle is not None:
                handle.cancel()
        self._flush_handle = self._delay_handle = None
        self.loop = None
        for item in list(self._retrying):
            self.enqueue(item)
        self._retrying.clear()

    # -- receivers -----------------------------------------------------------------------

    def add_receiver(self, session: BindSession) -> None:
        """An RX/TRX bind joins the rotation of its system_id and gets what is owed."""
        self.receivers.setdefault(session.system_id, []).append(session)
        if self._ready.get(session.system_id):
            self._schedule_flush()

    def remove_session(self, session: BindSession) -> None:
        """Take a closing bind out of the rotation; requeue what it never acknowledged."""
        receivers = self.receivers.get(session.system_id or "")
        if receivers and session in receivers:
            receivers.remove(session)
        if not session.outstanding:
            return
        items = list(session.outstanding.values())
        session.outstanding.clear()
        self.counters["requeued_on_drop"] += len(items)
        for item in reversed(items):
            item.avoid_bind = session.bind_id
            self.enqueue(item, front=True)

    # -- queueing ------------------------------------------------------------------------

    def enqueue(self, item: DeliverItem, *, front: bool = False) -> None:
        """Send ``item`` as soon as a receiver of its system_id is bound."""
        queue = self._ready.get(item.system_id)
        if queue is None:
            queue = self._ready[item.system_id] = deque()
        if front:
            queue.appendleft(item)
        else:
            queue.append(item)
        self._schedule_flush()

    def enqueue_at(self, due: float, item: DeliverItem) -> None:
        """Send ``item`` at loop time ``due``; callers add items in due order."""
        self._delayed.append((due, item))
        if self._delay_handle is None and self.loop is not None:
            self._delay_handle = self.loop.call_at(due, self._release_delayed)

    def acknowledge(self, session: BindSession, seq: int, status: int) -> None:
        """deliver_sm_resp (or generic_nack): done, or re-send after the retry delay."""
        item = session.outstanding.pop(seq, None)
        if item is None:
            return
        if status == 0:
            self.counters["receipts_acked" if item.kind == "receipt" else "mo_acked"] += 1
            return
        self.counters["deliver_nacks"] += 1
        item.avoid_bind = session.bind_id
        if self.loop is None:
            self.enqueue(item)
        else:
            self._retrying[item] = self.loop.call_later(self.retry_delay_s, self._retry, item)

    def _retry(self, item: DeliverItem) -> None:
        self._retrying.pop(item, None)
        self.enqueue(item)

    def _schedule_flush(self) -> None:
        if self._flush_handle is None and self.loop is not None:
            self._flush_handle = self.loop.call_soon(self._flush)

    def _release_delayed(self) -> None:
        self._delay_handle = None
        delayed = self._delayed
        now = self.loop.time() + 0.001  # the loop fires timers up to its clock resolution early
        while delayed and delayed[0][0] <= now:
            self.enqueue(delayed.popleft()[1])
        if delayed:
            self._delay_handle = self.loop.call_at(delayed[0][0], self._release_delayed)

    def _flush(self) -> None:
        """Send every ready item, round-robin over the receivers, one write per bind."""
        self._flush_handle = None
        batches: dict[BindSession, list[bytes]] = {}
        counters = self.counters
        for system_id, queue in self._ready.items():
            receivers = self.receivers.get(system_id)
            if not queue or not receivers:
                continue
            count = len(receivers)
            turn = self._turn.get(system_id, 0)
            while queue:
                item = queue.popleft()
                session = receivers[turn % count]
                turn += 1
                if count > 1 and session.bind_id == item.avoid_bind:
                    session = receivers[turn % count]
                    turn += 1
                seq = session.next_seq()
                session.outstanding[seq] = item
                item.attempts += 1
                if item.attempts > 1:
                    counters["redeliveries"] += 1
                counters["receipts_sent" if item.kind == "receipt" else "mo_sent"] += 1
                chunk = _encode(pdu.DELIVER_SM, 0, seq, item.body)
                batch = batches.get(session)
                if batch is None:
                    batches[session] = [chunk]
                else:
                    batch.append(chunk)
            self._turn[system_id] = turn % count
        for session, chunks in batches.items():
            session.write(b"".join(chunks))
        if batches:
            self._on_sent()
