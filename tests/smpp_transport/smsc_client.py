"""Client-side helpers for the SMSC simulator tests: smpplib one-liners, a raw-socket client
for what smpplib refuses to send, and a throwaway TLS certificate."""

from __future__ import annotations

import select
import socket
import struct
import subprocess
from pathlib import Path

import smpplib.smpp

from smpp_transport.smsc import pdu

ACCOUNTS = {"sys1": "pw1", "sys2": "pw2"}
REPO = Path(__file__).resolve().parents[2]


def submit(client, text=b"hello world", registered_delivery=1, **fields):
    """Send a submit_sm and return its sequence number."""
    fields.setdefault("source_addr", "TESTER")
    fields.setdefault("destination_addr", "447700900123")
    p = smpplib.smpp.make_pdu(
        "submit_sm",
        client=client,
        short_message=text,
        registered_delivery=registered_delivery,
        **fields,
    )
    client.send_pdu(p)
    return p.sequence


def read(client):
    """The next PDU (blocking, bounded by the client's socket timeout)."""
    return client.read_pdu()


def ack(client, deliver, status=0):
    """Answer a deliver_sm."""
    resp = smpplib.smpp.make_pdu("deliver_sm_resp", client=client, status=status)
    resp.sequence = deliver.sequence
    client.send_pdu(resp)


def submit_and_read_id(client, **kwargs) -> str:
    seq = submit(client, **kwargs)
    resp = read(client)
    assert resp.command == "submit_sm_resp" and resp.sequence == seq and resp.status == 0
    return resp.message_id.decode()


def nothing_to_read(client) -> bool:
    return not select.select([client._socket], [], [], 0)[0]


class RawClient:
    """A bare socket speaking SMPP, for what smpplib refuses to send."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""

    def send(self, command_id: int, sequence: int, body: bytes = b"", status: int = 0) -> None:
        self.sock.sendall(pdu.encode_pdu(command_id, status, sequence, body))

    def read(self) -> tuple[int, int, int, bytes] | None:
        """(command_id, status, sequence, body), or None on EOF."""
        while True:
            if len(self.buf) >= 16:
                length, command_id, status, seq = struct.unpack_from(">IIII", self.buf)
                if len(self.buf) >= length:
                    body, self.buf = self.buf[16:length], self.buf[length:]
                    return command_id, status, seq, body
            data = self.sock.recv(65536)
            if not data:
                return None
            self.buf += data

    def bind(self, command_id: int, system_id: str = "sys1") -> int:
        body = b"".join((pdu.cstring(system_id), pdu.cstring(ACCOUNTS[system_id]), b"\x00\x34\x00\x00\x00"))
        self.send(command_id, 1, body)
        return self.read()[1]

    def close(self) -> None:
        self.sock.close()


def self_signed_cert(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ],
        check=True,
        capture_output=True,
        timeout=20,
    )
    return cert, key
