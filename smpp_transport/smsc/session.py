"""One SMPP connection (a bind) of the simulated SMSC.

An :class:`asyncio.Protocol` rather than streams: ``data_received`` decodes every complete
PDU in the buffer in one pass and answers them with a single ``transport.write``, which is
what keeps a single bind above 15,000 submit_sm/s without a task per PDU.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from . import pdu
from .receipts import DeliverItem

if TYPE_CHECKING:
    from .server import SMSCServer

logger = logging.getLogger(__name__)

_encode = pdu.encode_pdu


class BindSession(asyncio.Protocol):
    """State of one connection: bind status, throttle window, deliver_sm awaiting a resp."""

    def __init__(self, server: SMSCServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.bind_id = server.next_bind_id()
        self.bind_type: str | None = None
        self.system_id: str | None = None
        self.peer = ""
        self.outstanding: dict[int, DeliverItem] = {}
        self.window_start = float("-inf")
        self.window_count = 0
        self.last_rx = 0.0
        self.pinged = False
        self.closing = False
        self.lost = False
        self._seq = 0

    # -- asyncio callbacks ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Remember the peer for binds() and the log."""
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if peer else "?"
        self.last_rx = self.server.loop.time()
        self.server.session_opened(self)

    def connection_lost(self, exc: Exception | None) -> None:
        """Leave the rotation; unacknowledged deliver_sm are requeued by the server."""
        self.closing = True
        self.lost = True
        self.server.session_closed(self)

    def data_received(self, data: bytes) -> None:
        """Decode every complete PDU received so far and answer them in one write."""
        buf = self.buf
        buf += data
        if self.closing:
            buf.clear()
            return
        server = self.server
        now = server.loop.time()
        self.last_rx = now
        self.pinged = False
        out: list[bytes] = []
        delayed: list[bytes] | None = [] if server.resp_delay_s > 0 else None
        unpack = pdu.HEADER.unpack_from
        n = len(buf)
        pos = 0
        while n - pos >= 4:
            length = pdu.peek_length(buf, pos)
            if length < pdu.HEADER_LEN or length > pdu.MAX_PDU_LEN:
                self._reject_length(buf, pos, out)
                return
            end = pos + length
            if end > n:
                break
            _, command_id, status, sequence = unpack(buf, pos)
            if command_id == pdu.SUBMIT_SM:
                resp = server.handle_submit(self, buf, pos + 16, end, sequence, now)
                if delayed is None:
                    out.append(resp)
                    server.counters["resp_sent"] += 1
                else:
                    delayed.append(resp)
            elif command_id == pdu.DELIVER_SM_RESP:
                server.deliver_resp(self, sequence, status)
            else:
                self._dispatch(command_id, status, sequence, buf, pos + 16, end, out)
            pos = end
            if self.closing:
                break
        if pos:
            del buf[:pos]
        if out:
            self.transport.write(b"".join(out))
        if delayed:
            server.loop.call_later(server.resp_delay_s, self._write_delayed, delayed)
        if self.closing:
            self.transport.close()
        server.changed()

    # -- helpers -------------------------------------------------------------------------

    def next_seq(self) -> int:
        """Sequence number for a PDU the SMSC originates (deliver_sm, enquire_link)."""
        seq = self._seq + 1 if self._seq < 0x7FFFFFFF else 1
        self._seq = seq
        return seq

    def write(self, data: bytes) -> None:
        """Write unless the connection is already going away."""
        if not self.closing and self.transport is not None:
            self.transport.write(data)

    def close(self, *, unbind: bool = False, abort: bool = False) -> None:
        """Leave the receipt rotation now and close (politely with unbind, or abruptly)."""
        if self.transport is None:
            return
        if not self.closing and unbind and self.bind_type is not None:
            self.transport.write(_encode(pdu.UNBIND, 0, self.next_seq()))
        self.closing = True
        self.server.session_closed(self)
        if abort:
            self.transport.abort()
        else:
            self.transport.close()

    def _write_delayed(self, responses: list[bytes]) -> None:
        if self.closing:
            return
        self.transport.write(b"".join(responses))
        self.server.counters["resp_sent"] += len(responses)
        self.server.changed()

    def _reject_length(self, buf: bytearray, pos: int, out: list[bytes]) -> None:
        """command_length out of range: the stream cannot be resynchronised, so nack + close."""
        sequence = pdu.HEADER.unpack_from(buf, pos)[3] if len(buf) - pos >= 16 else 0
        out.append(_encode(pdu.GENERIC_NACK, pdu.ESME_RINVCMDLEN, sequence))
        self.server.counters["generic_nacks"] += 1
        self.transport.write(b"".join(out))
        buf.clear()
        logger.info("bind %s (%s): invalid command_length, closing", self.bind_id, self.peer)
        self.close()
        self.server.changed()

    def _dispatch(
        self,
        command_id: int,
        status: int,
        sequence: int,
        buf: bytearray,
        start: int,
        end: int,
        out: list[bytes],
    ) -> None:
        """Every command other than the two hot ones (submit_sm, deliver_sm_resp)."""
        if command_id == pdu.ENQUIRE_LINK:
            out.append(_encode(pdu.ENQUIRE_LINK_RESP, 0, sequence))
            self.server.counters["enquire_links"] += 1
        elif command_id in pdu.BIND_TYPES:
            out.append(self._bind(command_id, sequence, buf, start, end))
        elif command_id == pdu.UNBIND:
            out.append(_encode(pdu.UNBIND_RESP, 0, sequence))
            self.closing = True
            self.server.session_closed(self)
        elif command_id == pdu.GENERIC_NACK:
            # A client nacking our deliver_sm: treat as a failed delivery attempt.
            self.server.deliver_resp(self, sequence, status or pdu.ESME_RSYSERR)
        elif command_id & pdu.RESPONSE_BIT:
            pass  # enquire_link_resp, unbind_resp, or a stray response: nothing to do
        else:
            out.append(_encode(pdu.GENERIC_NACK, pdu.ESME_RINVCMDID, sequence))
            self.server.counters["generic_nacks"] += 1

    def _bind(self, command_id: int, sequence: int, buf: bytearray, start: int, end: int) -> bytes:
        resp_id = command_id | pdu.RESPONSE_BIT
        if self.bind_type is not None:
            return _encode(resp_id, pdu.ESME_RALYBND, sequence)
        try:
            request = pdu.parse_bind(buf, start, end)
        except pdu.PDUDecodeError as exc:
            status = exc.status
        else:
            status = self.server.authenticate(request.system_id, request.password)
            if not status:
                status = self.server.bind_capacity_status(request.system_id)
        if status:
            self.server.counters["bind_failures"] += 1
            return _encode(resp_id, status, sequence)
        self.bind_type = pdu.BIND_TYPES[command_id]
        self.system_id = request.system_id
        self.server.session_bound(self)
        body = pdu.cstring(self.server.config.smsc_system_id) + pdu.encode_tlv(pdu.TLV_SC_INTERFACE_VERSION, b"\x34")
        return _encode(resp_id, 0, sequence, body)
