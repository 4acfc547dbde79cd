"""What a transport lends the domain to send with: the :class:`Sender` protocol and its registry.

The domain owns the send loop (:func:`campaigns.services.submit.send_batch`: claiming,
chunking, pausing, pacing, recording); a transport only knows its wire. Each transport's
worker bootstep, once its bind or MM4 session is open, registers a sender for its channel
(``sms``, ``mms``) in this process; the domain's batch task, routed to that worker's queue,
sends with it. On a warm shutdown the bootstep withdraws it: :func:`withdraw` waits for the
batches in progress to finish (the one drain both workers share), then closes the sender.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterator


@dataclass(frozen=True)
class PartToSend:
    """One part to hand to the provider; (message_id, index) is its key until it is stored."""

    message_id: int
    index: int
    total: int
    account_id: int
    campaign_id: int
    phone: str
    body: str
    sender: str
    sender_ton: int
    sender_npi: int
    validity: timedelta | None
    first_send: bool = True  # the message had no part rows when the batch began
    #: The id the transport gives the part itself (MM4: the X-Mms-Message-ID of our
    #: MM4_forward.REQ), set just before the part goes on the wire; None for SMS.
    local_message_id: str | None = None
    paced: bool = False  # its campaign has a send rate: handed at its slot, to go out at once
    #: What the transport's ``segment`` made of the text for this part (SMS: the encoded
    #: segment with its UDH), so the text is segmented once, when the batch begins.
    payload: object = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> tuple[int, int]:
        return (self.message_id, self.index)


@dataclass(frozen=True)
class SubmitOutcome:
    """What the provider said to one part: outcome accepted | failed | retry | unknown."""

    part: PartToSend
    outcome: str
    provider_message_id: str | None = None
    error_code: int | None = None
    error: str = ""
    #: when the transport wrote it to the provider (``time.monotonic()``; None: unknown),
    #: so that a capped campaign paces from the write, not from a late-read answer
    sent_at: float | None = None


Send = Callable[[list[PartToSend]], list[SubmitOutcome]]
LocalId = Callable[[PartToSend], str]


@dataclass(frozen=True)
class BatchPlan:
    """How one batch is sent: chunks of about ``chunk_size`` parts (half a second of
    sending), handed to ``send``; ``local_id`` (MM4) names each part before its chunk goes
    on the wire. A plan per batch, so a transport may re-read its settings per batch and
    keep per-batch state (media read once) without sharing it between pool threads."""

    chunk_size: int
    send: Send
    local_id: LocalId | None = None


class Sender(Protocol):
    """A transport's side of sending, registered with :func:`register`.

    ``segment`` cuts a message's text into its parts' payloads (SMS: the encoded segments,
    with the concatenation reference ``ref``; MMS: one part whatever the text), once: the
    parts carry them to ``send``. ``send`` returns an outcome per part it dealt with; a part
    it returns nothing for was not sent (the transport cannot go on) and is handed back.
    """

    def segment(self, text: str, *, ref: int) -> Sequence[object]: ...

    def plan(self) -> BatchPlan: ...

    def close(self) -> None: ...


_lock = threading.Condition()
_senders: dict[str, Sender] = {}
_active: dict[str, int] = {}


def register(channel: str, sender: Sender) -> None:
    """Make ``sender`` this process's sender for ``channel`` (one per channel per process)."""
    with _lock:
        _senders[channel] = sender


def registered(channel: str) -> Sender | None:
    with _lock:
        return _senders.get(channel)


@contextmanager
def sending(channel: str) -> Iterator[Sender]:
    """The channel's sender for one batch, counted as in progress until the batch ends."""
    with _lock:
        sender = _senders.get(channel)
        if sender is None:
            raise RuntimeError(f"no {channel} sender in this worker (its worker bootstep opens one)")
        _active[channel] = _active.get(channel, 0) + 1
    try:
        yield sender
    finally:
        with _lock:
            _active[channel] -= 1
            _lock.notify_all()


def withdraw(channel: str, *, drain_s: float) -> None:
    """Warm shutdown: wait up to ``drain_s`` for the channel's batches in progress, then
    close its sender. Celery stops the bootsteps before its pool, while pool threads may
    still be sending; closing under them would leave their parts ambiguous. The consumer
    has already stopped fetching, so this ends within one batch."""
    with _lock:
        _lock.wait_for(lambda: not _active.get(channel), timeout=drain_s)
        sender = _senders.pop(channel, None)
    if sender is not None:
        sender.close()
