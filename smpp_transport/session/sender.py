"""The session-thread half of a Bind: what to write next, and writing it.

The session thread is the only writer of requests. ``Sender.pump`` waits on the bind's
Condition for the next thing due — a part the window and the pacer allow, an enquire_link
when the link has been idle, a response deadline — and ``_send_parts`` writes a paced part
and tells the pacer when it went out (see session/pacing.py for why the answer matters too).

``Sender`` is built once by ``Bind`` next to its ``Reader`` and handed exactly what it
touches: the config and name, the shared ``SessionState`` (lock, ``stopping``, ``lost()``,
the same object the Reader reports loss through), the window, the pacer and the PDU
client. It owns the one counter only it writes (enquire_link sent).
"""

from __future__ import annotations

import logging
import time

from smpp_transport.session import codec
from smpp_transport.session.connection import Connection, SessionState
from smpp_transport.session.pacing import Pacer
from smpp_transport.session.transport import PduClient
from smpp_transport.session.types import BindConfig
from smpp_transport.session.window import SubmitWindow

__all__ = ["Sender"]

log = logging.getLogger("smpp_transport.bind")


class Sender:
    """Session-thread sending of one ``Bind``, across its connections (see the module docstring)."""

    def __init__(
        self,
        *,
        config: BindConfig,
        name: str,
        shared: SessionState,
        window: SubmitWindow,
        pacer: Pacer,
        client: PduClient,
    ) -> None:
        self.config = config
        self.name = name
        self._shared = shared
        self._cv = shared.cv
        self._window = window
        self._pacer = pacer
        self._client = client
        self.el_sent = 0

    def pump(self, conn: Connection) -> None:
        """Send while bound: parts as the window and pacer allow, enquire_link when idle."""
        cfg = self.config
        window = self._window
        can_submit = cfg.mode != "rx"
        el_idle = cfg.enquire_link_s
        cv = self._cv
        shared = self._shared
        while True:
            entries = None
            with cv:
                while True:
                    if shared.stopping or not conn.alive:
                        return
                    now = time.monotonic()
                    if window.inflight and window.expire(now):
                        conn.probe = True  # a silent SMSC: find out now, not at the next idle
                    if conn.el_seq is not None:
                        if now >= conn.el_deadline:
                            shared.lost(conn, f"no enquire_link_resp in {cfg.response_timeout_s}s")
                            return
                    elif conn.probe or now - min(conn.last_rx, conn.last_tx) >= el_idle:
                        conn.probe = False
                        break
                    if can_submit:
                        entries = window.take(now)
                        if entries:
                            break
                    wake = conn.el_deadline if conn.el_seq is not None else min(conn.last_rx, conn.last_tx) + el_idle
                    oldest = window.oldest_deadline()
                    if oldest is not None and oldest < wake:
                        wake = oldest
                    if can_submit:
                        send_at = window.next_send_at(now)
                        if send_at is not None and send_at < wake:
                            wake = send_at
                    cv.wait(max(0.0, wake - now))
            if entries:
                self._send_parts(conn, entries)
            else:
                self._send_enquire_link(conn)

    def _send_parts(self, conn: Connection, entries: list) -> None:
        built: list[tuple[int, object]] = []
        pdus: list[bytes] = []
        bad = []
        client = self._client
        for entry in entries:
            try:
                seq, pdu = codec.build_submit_sm(client, entry.part)
            except ValueError as exc:
                bad.append((entry, exc))
                continue
            built.append((seq, entry))
            pdus.append(pdu)
        window = self._window
        with self._cv:
            for entry, exc in bad:
                log.warning("bind %s: part %r cannot be encoded: %s", self.name, entry.part.ref, exc)
                window.release_unbuilt(entry, "INVALID_PART")
            if not built:
                return
            now = time.monotonic()
            window.register(built, now + self.config.response_timeout_s)
            if not conn.alive:  # lost while encoding: nothing was written, send them later
                window.unsent(built)
                return
        conn.last_tx = now
        written, error = conn.transport.send_pdus(pdus)
        with self._cv:
            if written:
                after = time.monotonic()
                for _, entry in built[:written]:
                    entry.written_at = after
            if written and self._pacer.paced:
                # The time after the write, not before: a thread switch between the two
                # would otherwise let the next send crowd this one at the SMSC.
                window.written(built[written - 1][1], time.monotonic())
            window.submitted += written
            if error is not None:
                window.unsent(built[written:])
                self._shared.lost(conn, f"write failed: {error}")

    def _send_enquire_link(self, conn: Connection) -> None:
        seq, pdu = codec.build_request(self._client, "enquire_link")
        with self._cv:
            conn.el_seq = seq
            conn.el_deadline = time.monotonic() + self.config.response_timeout_s
            self.el_sent += 1
        conn.last_tx = time.monotonic()
        error = conn.transport.send_pdus([pdu])[1]
        if error is not None:
            with self._cv:
                self._shared.lost(conn, f"write failed: {error}")
