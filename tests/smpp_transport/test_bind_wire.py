"""The Bind against a scripted fake SMSC: wire-level cases the simulator never produces.

The test plays the SMSC byte by byte on a real socket: PDUs glued to the bind_resp, PDUs
split into single bytes, generic_nack, unknown commands, a server-side unbind, a
desynchronised stream, a silent SMSC, and a drop with submits in flight.
"""

from __future__ import annotations

import logging
import queue
import socket
import struct
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from smpp_transport.bind import Bind, BindConfig
from smpp_transport.session import codec
from tests.smpp_transport.test_bind import Inbox, eventually, make_parts
from tests.smpp_transport.test_bind_codec import RECEIPT_TEXT, deliver_sm, tlv

pytestmark = pytest.mark.timeout(30)

BIND_TRANSCEIVER_RESP = 0x80000009


def pdu(command_id: int, seq: int, status: int = 0, body: bytes = b"") -> bytes:
    return struct.pack(">IIII", 16 + len(body), command_id, status, seq) + body


class Peer:
    """The SMSC's end of one connection."""

    def __init__(self, sock: socket.socket) -> None:
        sock.settimeout(5)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        self.buf = b""

    def read(self) -> tuple[int, int, int, bytes]:
        while True:
            if len(self.buf) >= 16:
                length, command_id, status, seq = struct.unpack_from(">IIII", self.buf)
                if len(self.buf) >= length:
                    body, self.buf = self.buf[16:length], self.buf[length:]
                    return command_id, status, seq, body
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("bind closed the connection")
            self.buf += data

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def accept_bind(self, extra: bytes = b"") -> None:
        command_id, _, seq, _ = self.read()
        assert command_id == codec.BIND_TRANSCEIVER
        self.send(pdu(BIND_TRANSCEIVER_RESP, seq, body=b"FAKE\0") + extra)

    def closed_by_bind(self) -> bool:
        try:
            while True:
                self.read()
        except (ConnectionError, OSError):
            return True


class FakeSmsc:
    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.peers: queue.Queue[Peer] = queue.Queue()
        self.all: list[Peer] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            peer = Peer(sock)
            self.all.append(peer)
            self.peers.put(peer)

    def accept(self, timeout: float = 5.0) -> Peer:
        return self.peers.get(timeout=timeout)

    def close(self) -> None:
        self.listener.close()
        for peer in self.all:
            peer.sock.close()


@pytest.fixture
def smsc():
    server = FakeSmsc()
    yield server
    server.close()


@pytest.fixture
def make_bind(smsc):
    binds: list[Bind] = []

    def make(inbox=None, **overrides) -> Bind:
        fields = {"rate_per_s": 0.0, "reconnect_min_s": 0.05, "reconnect_max_s": 0.2, "response_timeout_s": 2.0}
        fields.update(overrides)
        bind = Bind(BindConfig("127.0.0.1", smsc.port, "sys1", "pw1", **fields), on_deliver=inbox)
        binds.append(bind)
        bind.start(wait=False)
        return bind

    yield make
    for bind in binds:
        bind.stop(timeout=0.3)  # the fake SMSC never answers unbind


def test_pdu_glued_to_the_bind_resp_is_not_lost(smsc, make_bind) -> None:
    inbox = Inbox()
    make_bind(inbox)
    peer = smsc.accept()
    receipt = deliver_sm(77, short_message=RECEIPT_TEXT, tlvs=tlv(0x001E, b"1a2b3c\0"))
    peer.accept_bind(extra=receipt)
    assert inbox.wait_for(1)
    assert inbox.pdus[0].optional_params["receipted_message_id"] == b"1a2b3c"
    assert peer.read()[:3] == (codec.DELIVER_SM_RESP, 0, 77)


def test_a_malformed_deliver_sm_is_logged_as_a_summary_without_numbers_or_text(smsc, make_bind, caplog) -> None:
    caplog.set_level(logging.INFO, logger="smpp_transport.bind")
    text = b"Meet me at 5, love Ann"
    frame = bytearray(deliver_sm(41, short_message=text))
    frame[len(frame) - len(text) - 1] = 200  # sm_length claims more octets than the PDU has
    make_bind(Inbox())
    peer = smsc.accept()
    peer.accept_bind(extra=bytes(frame))
    assert peer.read()[:3] == (codec.DELIVER_SM_RESP, codec.ESME_RSYSERR, 41)
    (record,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    line = record.getMessage()
    assert "deliver_sm" in line and "sequence 41" in line and f"{len(frame)} octets" in line
    assert "short_message runs past the end" in line
    for private in (b"447700900001", b"Brand", text, b"Meet"):
        assert private.decode() not in line and private.hex() not in line
    assert bytes(frame).hex()[32:] not in line


def test_pdus_split_into_single_bytes_are_reassembled(smsc, make_bind) -> None:
    bind = make_bind()
    peer = smsc.accept()
    peer.accept_bind()
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(bind.submit, make_parts(1), timeout=10)
        command_id, _, seq, _ = peer.read()
        assert command_id == codec.SUBMIT_SM
        for byte in pdu(codec.SUBMIT_SM_RESP, seq, body=b"abc123\0"):
            peer.send(bytes([byte]))
        (result,) = future.result(timeout=10)
    assert (result.outcome, result.message_id) == ("accepted", "abc123")


def test_generic_nack_throttle_then_permanent(smsc, make_bind) -> None:
    bind = make_bind(window=1, throttle_pause_s=0.1)
    peer = smsc.accept()
    peer.accept_bind()
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(bind.submit, make_parts(2), timeout=10)
        _, _, seq, body = peer.read()
        peer.send(pdu(codec.GENERIC_NACK, seq, status=0x58))
        paused_at = time.monotonic()
        _, _, seq2, body2 = peer.read()
        assert body2 == body and seq2 != seq  # the same part again, after the pause
        assert time.monotonic() - paused_at >= 0.09
        peer.send(pdu(codec.GENERIC_NACK, seq2, status=0x02))
        _, _, seq3, _ = peer.read()
        peer.send(pdu(codec.SUBMIT_SM_RESP, seq3, body=b"ok1\0"))
        results = future.result(timeout=10)
    assert [(r.outcome, r.status_name) for r in results] == [("failed", "ESME_RINVCMDLEN"), ("accepted", "ESME_ROK")]
    assert bind.stats["throttles"] == 1


def test_smsc_requests_are_answered(smsc, make_bind) -> None:
    make_bind()
    peer = smsc.accept()
    peer.accept_bind()
    peer.send(pdu(codec.ENQUIRE_LINK, 5) + pdu(0x00000099, 6))
    assert peer.read()[:3] == (codec.ENQUIRE_LINK_RESP, 0, 5)
    assert peer.read()[:3] == (codec.GENERIC_NACK, codec.ESME_RINVCMDID, 6)


def test_unbind_from_the_smsc_is_answered_and_the_bind_reconnects(smsc, make_bind) -> None:
    bind = make_bind()
    peer = smsc.accept()
    peer.accept_bind()
    peer.send(pdu(codec.UNBIND, 9))
    assert peer.read()[:3] == (codec.UNBIND_RESP, 0, 9)
    assert peer.closed_by_bind()
    smsc.accept().accept_bind()
    assert eventually(lambda: bind.state == "bound" and bind.stats["binds"] == 2)
    assert bind.stats["reconnects"] == 1


def test_desynchronised_stream_drops_the_connection(smsc, make_bind) -> None:
    bind = make_bind()
    peer = smsc.accept()
    peer.accept_bind()
    peer.send(struct.pack(">IIII", 8, codec.DELIVER_SM, 0, 1))
    assert peer.closed_by_bind()
    smsc.accept().accept_bind()
    assert eventually(lambda: bind.stats["binds"] == 2)
    assert "command_length" in (bind.last_error or "") or bind.state == "bound"


def test_silent_smsc_is_detected_by_enquire_link(smsc, make_bind) -> None:
    bind = make_bind(enquire_link_s=0.1, response_timeout_s=0.3)
    peer = smsc.accept()
    peer.accept_bind()
    assert peer.read()[0] == codec.ENQUIRE_LINK  # never answered
    assert peer.closed_by_bind()
    assert "enquire_link" in bind.last_error
    smsc.accept().accept_bind()
    assert eventually(lambda: bind.state == "bound")


def test_drop_with_submits_in_flight(smsc, make_bind) -> None:
    bind = make_bind(window=3)
    peer = smsc.accept()
    peer.accept_bind()
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(bind.submit, make_parts(6), timeout=10)
        seqs = [peer.read()[2] for _ in range(3)]
        peer.send(pdu(codec.SUBMIT_SM_RESP, seqs[0], body=b"id0\0"))
        peer.read()  # the freed slot is used at once: part 3
        peer.sock.close()  # parts 1-3 written and unanswered; 4 and 5 never written
        second = smsc.accept()
        second.accept_bind()
        for ident in (b"id4", b"id5"):
            _, _, seq, body = second.read()
            second.send(pdu(codec.SUBMIT_SM_RESP, seq, body=ident + b"\0"))
        results = future.result(timeout=10)
    assert [(r.outcome, r.message_id) for r in results] == [
        ("accepted", "id0"),
        ("unknown", None),
        ("unknown", None),
        ("unknown", None),
        ("accepted", "id4"),
        ("accepted", "id5"),
    ]


def test_stop_is_bounded_when_the_smsc_ignores_unbind(smsc, make_bind) -> None:
    bind = make_bind(response_timeout_s=5.0)
    peer = smsc.accept()
    peer.accept_bind()
    assert eventually(lambda: bind.state == "bound")
    started = time.monotonic()
    bind.stop(timeout=1.0)
    assert time.monotonic() - started < 2.0
    assert peer.read()[0] == codec.UNBIND
    assert bind.state == "stopped"
