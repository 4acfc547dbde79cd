"""The SMSC simulator's session commands, malformed input and lifecycle (TLS, restart, stop, log).

Synchronisation goes through the simulator's bounded wait_* helpers and blocking reads
with socket timeouts; nothing sleeps. Fixtures (make_sim, connect, raw) are in conftest.py.
"""

from __future__ import annotations

import json
import ssl
import struct

import pytest
import smpplib.client
import smpplib.exceptions
import smpplib.smpp

from smpp_transport.smsc import pdu
from tests.smpp_transport.smsc_client import (
    read,
    self_signed_cert,
    submit,
    submit_and_read_id,
)

pytestmark = pytest.mark.timeout(30)


# -- session commands and malformed input ----------------------------------------------------


def test_enquire_link_and_unbind(make_sim, connect):
    sim = make_sim()
    client = connect(sim, "transceiver")
    link = smpplib.smpp.make_pdu("enquire_link", client=client)
    client.send_pdu(link)
    resp = read(client)
    assert resp.command == "enquire_link_resp" and resp.sequence == link.sequence
    assert client.unbind().command == "unbind_resp"
    assert client._socket.recv(1) == b""
    assert sim.wait_for(lambda: sim.binds() == [])


def test_unknown_command_gets_generic_nack_and_the_bind_survives(make_sim, raw):
    client = raw(make_sim())
    assert client.bind(pdu.BIND_TRANSCEIVER) == 0
    client.send(0x00000099, 42)
    assert client.read()[:3] == (pdu.GENERIC_NACK, pdu.ESME_RINVCMDID, 42)
    client.send(pdu.ENQUIRE_LINK, 43)
    assert client.read()[:3] == (pdu.ENQUIRE_LINK_RESP, 0, 43)


@pytest.mark.parametrize("length", [8, 15, 64 * 1024 + 1])
def test_malformed_length_gets_generic_nack_then_close(make_sim, raw, length):
    client = raw(make_sim())
    client.sock.sendall(struct.pack(">IIII", length, pdu.ENQUIRE_LINK, 0, 9))
    assert client.read()[:2] == (pdu.GENERIC_NACK, pdu.ESME_RINVCMDLEN)
    assert client.read() is None


def test_silent_bind_is_pinged_then_closed(make_sim, raw):
    sim = make_sim(enquire_link_timeout_s=0.2)
    client = raw(sim)
    assert client.bind(pdu.BIND_TRANSCEIVER) == 0
    assert client.read()[0] == pdu.ENQUIRE_LINK
    assert client.read() is None


# -- lifecycle -------------------------------------------------------------------------------


def test_tls_bind_and_submit(make_sim, connect, tmp_path):
    cert, key = self_signed_cert(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=str(cert))
    client_ctx.check_hostname = False  # smpplib wraps without server_hostname
    sim = make_sim(ssl_context=server_ctx)
    client = connect(sim, "transceiver", ssl_context=client_ctx)
    message_id = submit_and_read_id(client)
    assert read(client).receipted_message_id.decode() == message_id


def test_restart_keeps_the_port_and_issues_fresh_ids(make_sim, connect):
    sim = make_sim()
    port = sim.port
    first = submit_and_read_id(connect(sim, "transmitter"), registered_delivery=0)
    sim.restart()
    assert sim.port == port
    second = submit_and_read_id(connect(sim, "transmitter"), registered_delivery=0)
    assert first != second


def test_drop_connections_keeps_listening(make_sim, connect):
    sim = make_sim()
    old = connect(sim, "transceiver")
    assert sim.wait_for_binds(1)
    sim.drop_connections()
    assert old._socket.recv(1) == b""
    assert sim.wait_for(lambda: sim.binds() == [])
    assert submit_and_read_id(connect(sim, "transceiver"))


def test_stop_unbinds_clients(make_sim, connect):
    sim = make_sim()
    client = connect(sim, "transceiver")
    assert sim.wait_for_binds(1)
    sim.stop()
    assert read(client).command == "unbind"
    with pytest.raises(smpplib.exceptions.ConnectionError):
        read(client)


def test_json_lines_log(make_sim, connect, tmp_path):
    log = tmp_path / "submits.jsonl"
    sim = make_sim(log_path=log, rate_per_bind=1)
    client = connect(sim, "transmitter")
    udh = bytes((5, 0, 3, 7, 2, 1))
    submit(client, text=udh + b"hi", esm_class=0x40, user_message_reference=513)
    submit(client, text=b"plain", registered_delivery=0)
    read(client), read(client)
    sim.stop()
    lines = log.read_text().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["system_id"] == "sys1" and first["bind_type"] == "tx"
    assert first["destination_addr"] == "447700900123" and first["source_addr"] == "TESTER"
    assert first["udh"] == udh.hex() and first["short_message_hex"] == (udh + b"hi").hex()
    assert first["optional_params"] == {"user_message_reference": "0201"}
    assert first["registered_delivery"] == 1 and first["esm_class"] == 0x40
    assert first["command_status"] == 0 and first["message_id"] and first["receipt"] == "DELIVRD"
    assert second["command_status"] == 0x58 and second["message_id"] is None and second["receipt"] is None
    assert second["udh"] is None and first["bind_id"] == second["bind_id"]
    assert {"ts", "sequence", "data_coding"} <= set(first)


def test_garbage_never_breaks_the_server(make_sim, raw, connect, caplog):
    import random

    sim = make_sim(rate_per_bind=0)
    rng = random.Random(1)
    commands = [1, 2, 9, 4, 4, 4, 0x80000005, 6, 0x15, 0x80000000, 0x103, 0x7FFFFFFF]
    for _ in range(60):
        client = raw(sim)
        client.bind(pdu.BIND_TRANSCEIVER)
        frames = b"".join(
            pdu.encode_pdu(rng.choice(commands), 0, rng.randrange(1 << 31), rng.randbytes(rng.randrange(0, 80)))
            for _ in range(rng.randrange(1, 6))
        )
        client.sock.sendall(frames)
        client.send(pdu.UNBIND, 999)
        while (reply := client.read()) is not None and reply[0] != pdu.UNBIND_RESP:
            pass
        client.close()
    assert submit_and_read_id(connect(sim, "transceiver"), registered_delivery=0)
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
