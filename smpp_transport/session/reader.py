"""The reader-thread half of a Bind: the only reader of a connection's socket.

One reader thread per connection is the only reader of its socket (smpplib is not
thread-safe). It splits the byte stream into PDUs itself, accumulating partial reads so a
read timeout never drops bytes, applies runs of submit_sm_resp under one lock acquisition
(the hot path), and answers the SMSC's requests: deliver_sm / data_sm only after
``on_deliver`` has returned (ESME_RX_T_APPN if it raised, so the SMSC redelivers),
enquire_link, unbind (then the session reconnects); unknown requests get generic_nack.

``Reader`` is built once by ``Bind`` and handed exactly what it touches: the config and
name, the shared ``SessionState`` (lock, ``lost()``), the window and the pacer. It owns the
counters only it writes (deliveries, enquire_link answers); ``Bind.stats`` reads them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future

from smpplib import consts

from smpp_transport.session import codec
from smpp_transport.session.codec import ProtocolError, status_name
from smpp_transport.session.connection import Connection, SessionState
from smpp_transport.session.pacing import Pacer
from smpp_transport.session.types import BindConfig, InboundPdu
from smpp_transport.session.window import SubmitWindow

__all__ = ["Reader"]

log = logging.getLogger("smpp_transport.bind")


class Reader:
    """Reader-thread work of one ``Bind``, across its connections (see the module docstring)."""

    def __init__(
        self,
        *,
        config: BindConfig,
        name: str,
        shared: SessionState,
        window: SubmitWindow,
        pacer: Pacer,
        on_deliver: Callable[[InboundPdu], object] | None,
    ) -> None:
        self.config = config
        self.name = name
        self._shared = shared
        self._cv = shared.cv
        self._window = window
        self._pacer = pacer
        self._on_deliver = on_deliver
        self.delivers = 0
        self.deliver_errors = 0
        self.el_resps = 0
        self.last_el_resp_at: float | None = None

    def read_loop(self, conn: Connection) -> None:
        """The reader thread's target: read until the connection dies, then say why."""
        buf = conn.buffer
        transport = conn.transport
        reason = "reader stopped"
        try:
            while conn.alive:
                if len(buf) >= codec.HEADER_LEN:
                    self._process(conn, buf)
                try:
                    data = transport.recv()
                except TimeoutError:
                    continue  # idle: partial PDUs stay in buf, nothing is lost
                if not data:
                    reason = "connection closed by the SMSC"
                    break
                conn.last_rx = time.monotonic()
                buf += data
        except (OSError, ProtocolError) as exc:
            reason = f"{type(exc).__name__}: {exc}"
        except Exception as exc:
            log.exception("bind %s: reader crashed", self.name)
            reason = f"reader crashed: {exc!r}"
        finally:  # whatever ended the loop, the session thread must learn of it
            with self._cv:
                self._shared.lost(conn, reason)

    def _process(self, conn: Connection, buf: bytearray) -> None:
        """Handle every complete PDU in ``buf``; submit_sm_resp runs are applied in bulk."""
        header = codec.HEADER.unpack_from
        submit_resp = codec.SUBMIT_SM_RESP
        size = len(buf)
        pos = 0
        resps: list[tuple[int, int, str | None]] = []
        while size - pos >= codec.HEADER_LEN:
            length, command_id, status, seq = header(buf, pos)
            if length < codec.HEADER_LEN or length > codec.MAX_PDU_LEN:
                raise ProtocolError(f"invalid command_length {length}: stream desynchronised")
            if size - pos < length:
                break
            if command_id == submit_resp:
                message_id = None
                if status == 0 and length > codec.HEADER_LEN:
                    message_id = codec.c_string(buf, pos + 16, pos + length).decode("ascii", "replace")
                resps.append((seq, status, message_id))
            else:
                if resps:
                    self._apply_responses(conn, resps)
                    resps = []
                self._dispatch(conn, command_id, status, seq, bytes(buf[pos : pos + length]))
            pos += length
        if resps:
            self._apply_responses(conn, resps)
        del buf[:pos]

    def _apply_responses(self, conn: Connection, resps: list[tuple[int, int, str | None]]) -> None:
        window = self._window
        throttled_status = None
        read_at = conn.last_rx  # the read that completed these PDUs: after the SMSC's stamp
        with self._cv:
            for seq, status, message_id in resps:
                if window.on_response(seq, status, message_id, read_at):
                    throttled_status = status
            if throttled_status is not None:
                self._pause(throttled_status)
            self._cv.notify_all()

    def _pause(self, status: int) -> None:
        """Throttled: the whole bind waits ``throttle_pause_s`` (caller holds the lock)."""
        now = time.monotonic()
        if self._pacer.not_before <= now:
            log.info(
                "bind %s: %s from the SMSC; pausing %.2fs", self.name, status_name(status), self.config.throttle_pause_s
            )
        self._pacer.pause_until(now + self.config.throttle_pause_s)

    def _ack_when_done(self, conn: Connection, resp_id: int, seq: int, done: Future) -> None:
        """Answer a deliver_sm once its deferred handling finished (any thread)."""
        status = codec.ESME_ROK
        if done.cancelled() or done.exception() is not None:
            self.deliver_errors += 1
            status = codec.ESME_RX_T_APPN
        if not conn.alive:
            return  # the SMSC resends what we did not acknowledge on a dead connection
        self._reply(conn, codec.encode_response(resp_id, seq, status, b"\0"))

    def _reply(self, conn: Connection, pdu: bytes) -> None:
        conn.last_tx = time.monotonic()
        error = conn.transport.send_pdus([pdu])[1]
        if error is not None:
            with self._cv:
                self._shared.lost(conn, f"write failed: {error}")

    def _dispatch(self, conn: Connection, command_id: int, status: int, seq: int, frame: bytes) -> None:
        if command_id in (codec.DELIVER_SM, codec.DATA_SM):
            self._on_inbound(conn, command_id, seq, frame)
        elif command_id == codec.ENQUIRE_LINK:
            self._reply(conn, codec.encode_response(codec.ENQUIRE_LINK_RESP, seq))
        elif command_id in (codec.ENQUIRE_LINK_RESP, codec.UNBIND_RESP, codec.GENERIC_NACK):
            self._on_session_response(conn, command_id, status, seq)
        elif command_id == codec.UNBIND:
            self._reply(conn, codec.encode_response(codec.UNBIND_RESP, seq))
            with self._cv:
                self._shared.lost(conn, "unbind requested by the SMSC")
        elif command_id == codec.ALERT_NOTIFICATION or command_id & codec.RESPONSE_BIT:
            log.debug("bind %s: ignoring PDU 0x%08x", self.name, command_id)
        else:
            log.warning("bind %s: unsupported request 0x%08x; generic_nack", self.name, command_id)
            self._reply(conn, codec.encode_response(codec.GENERIC_NACK, seq, codec.ESME_RINVCMDID))

    def _on_session_response(self, conn: Connection, command_id: int, status: int, seq: int) -> None:
        with self._cv:
            if seq == conn.el_seq:
                conn.el_seq = None
                self.el_resps += 1
                self.last_el_resp_at = time.time()
            elif seq == conn.unbind_seq:
                conn.unbound = True
            elif command_id == codec.GENERIC_NACK:
                # A nack of one of our submit_sm: same rules as its response would have.
                known = self._window.on_response(seq, status or consts.SMPP_ESME_RUNKNOWNERR, None, conn.last_rx)
                if known:
                    self._pause(status)
                elif known is None:
                    log.warning("bind %s: generic_nack %s for unknown sequence %d", self.name, status_name(status), seq)
            self._cv.notify_all()

    def _on_inbound(self, conn: Connection, command_id: int, seq: int, frame: bytes) -> None:
        resp_id = codec.DELIVER_SM_RESP if command_id == codec.DELIVER_SM else codec.DATA_SM_RESP
        status = codec.ESME_ROK
        try:
            pdu = codec.parse_inbound(frame, system_id=self.config.system_id, received_at=time.time())
        except ProtocolError as exc:
            # A summary, never the PDU: its addresses are phone numbers and its body a text.
            log.error(
                "bind %s: undecodable %s (sequence %d, %d octets): %s; answered ESME_RSYSERR",
                self.name,
                "deliver_sm" if command_id == codec.DELIVER_SM else "data_sm",
                seq,
                len(frame),
                exc,
            )
            status = codec.ESME_RSYSERR
        else:
            self.delivers += 1
            if self._on_deliver is not None:
                try:
                    pending = self._on_deliver(pdu)
                except Exception:
                    log.exception("bind %s: on_deliver failed; asking the SMSC to redeliver", self.name)
                    self.deliver_errors += 1
                    status = codec.ESME_RX_T_APPN
                else:
                    if isinstance(pending, Future):
                        # Deferred acknowledgement: the handler stores PDUs in groups
                        # (one commit for many receipts) and the reader goes on reading;
                        # the resp goes out when the group is durable.
                        pending.add_done_callback(lambda done: self._ack_when_done(conn, resp_id, seq, done))
                        return
        self._reply(conn, codec.encode_response(resp_id, seq, status, b"\0"))
