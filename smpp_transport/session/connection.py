"""The state of one connection, and the state a Bind shares with its Reader and Sender.

Two lifetimes, two classes. ``Connection`` lives for one TCP connection and is replaced on
every reconnect, so nothing a dead connection's late reader writes can leak into the next
one. ``SessionState`` lives as long as the ``Bind``: the lock every thread of the bind
synchronises on, the ``stopping`` flag the session thread's loops watch, and ``last_error``.
The Reader and the Sender both get the same ``SessionState`` from the Bind instead of
reaching into each other: either of them may find the connection dead (a failed write,
a closed socket, a missing enquire_link_resp) and ``lost()`` is the one way to say so.
"""

from __future__ import annotations

import threading
import time

from smpp_transport.session.transport import Transport

__all__ = ["Connection", "SessionState"]


class Connection:
    """One connection's state; replaced on every reconnect.

    Fields written by both threads (``alive``, ``reason``, ``el_seq``, ``unbind_seq``,
    ``unbound``) are written under ``SessionState.cv``; ``last_rx`` / ``last_tx`` are plain
    timestamps each written by one thread and only compared, so a stale read costs at most
    one early or late enquire_link.
    """

    __slots__ = (
        "transport",
        "buffer",
        "reader",
        "alive",
        "closing",
        "reason",
        "last_rx",
        "last_tx",
        "probe",
        "el_seq",
        "el_deadline",
        "unbind_seq",
        "unbound",
    )

    def __init__(self, transport: Transport, buffer: bytearray) -> None:
        now = time.monotonic()
        self.transport = transport
        self.buffer = buffer
        self.reader: threading.Thread | None = None
        self.alive = True
        self.closing = False
        self.reason = ""
        self.last_rx = now
        self.last_tx = now
        self.probe = False
        self.el_seq: int | None = None
        self.el_deadline = 0.0
        self.unbind_seq: int | None = None
        self.unbound = False


class SessionState:
    """What outlives a connection and is shared by the Bind, its Reader and its Sender.

    ``cv`` guards every field here, the window, the pacer and the shared ``Connection``
    fields; waiting on it is how the session thread learns of work, responses and loss.
    """

    __slots__ = ("cv", "stopping", "last_error")

    def __init__(self) -> None:
        self.cv = threading.Condition()
        self.stopping = False
        self.last_error: str | None = None

    def lost(self, conn: Connection, reason: str) -> None:
        """Mark the connection dead (caller holds ``cv``); the session thread tears down.

        The first reason wins, and a connection we were closing ourselves does not
        overwrite ``last_error``: our own close is not an error.
        """
        if conn.alive:
            conn.alive = False
            conn.reason = reason
            if not conn.closing:
                self.last_error = reason
            self.cv.notify_all()
