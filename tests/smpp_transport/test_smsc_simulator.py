"""The SMSC simulator against a plain smpplib client and raw sockets, over real loopback.

Synchronisation goes through the simulator's bounded wait_* helpers and blocking reads
with socket timeouts; nothing sleeps.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import socket
import ssl
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import smpplib.client
import smpplib.exceptions
import smpplib.smpp
from hypothesis import given, settings
from hypothesis import strategies as st

from smpp_transport.smsc import SimulatorConfig, SimulatorThread, pdu
from smpp_transport.smsc.cli import parse_config

pytestmark = pytest.mark.timeout(30)

ACCOUNTS = {"sys1": "pw1", "sys2": "pw2"}
REPO = Path(__file__).resolve().parents[2]


# -- helpers ---------------------------------------------------------------------------------


@pytest.fixture
def make_sim():
    """Start simulators with test defaults (unthrottled); stop them all afterwards."""
    sims: list[SimulatorThread] = []

    def factory(**overrides) -> SimulatorThread:
        options = {"accounts": dict(ACCOUNTS), "rate_per_bind": 0.0, **overrides}
        sim = SimulatorThread(SimulatorConfig(**options)).start()
        sims.append(sim)
        return sim

    yield factory
    for sim in sims:
        sim.stop()


@pytest.fixture
def connect():
    """Open smpplib clients (optionally bound); disconnect them all afterwards."""
    clients: list[smpplib.client.Client] = []

    def factory(sim, bind=None, system_id="sys1", password=None, ssl_context=None):
        client = smpplib.client.Client(
            "127.0.0.1",
            sim.port,
            timeout=5,
            allow_unknown_opt_params=True,
            ssl_context=ssl_context,
        )
        client.connect()
        clients.append(client)
        if bind:
            getattr(client, f"bind_{bind}")(system_id=system_id, password=password or ACCOUNTS[system_id])
        return client

    yield factory
    for client in clients:
        client.disconnect()


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


@pytest.fixture
def raw():
    socks: list[RawClient] = []

    def factory(sim) -> RawClient:
        socks.append(RawClient(sim.port))
        return socks[-1]

    yield factory
    for s in socks:
        s.close()


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


# -- binds -----------------------------------------------------------------------------------


def test_binds_of_every_type_are_listed(make_sim, connect):
    sim = make_sim()
    for bind in ("transmitter", "receiver", "transceiver"):
        resp = getattr(connect(sim), f"bind_{bind}")(system_id="sys1", password="pw1")
        assert resp.status == 0 and resp.system_id == b"SMSCSIM"
    assert sim.wait_for_binds(3, timeout=5)
    binds = sim.binds()
    assert sorted(b["bind_type"] for b in binds) == ["rx", "trx", "tx"]
    assert {b["system_id"] for b in binds} == {"sys1"}
    assert all(b["peer"].startswith("127.0.0.1:") for b in binds)


@pytest.mark.parametrize(
    ("system_id", "password", "status"),
    [("sys1", "wrong", pdu.ESME_RINVPASWD), ("nobody", "pw1", pdu.ESME_RINVSYSID)],
)
def test_bad_credentials_are_told_apart(make_sim, connect, system_id, password, status):
    sim = make_sim()
    with pytest.raises(smpplib.exceptions.PDUError) as excinfo:
        connect(sim).bind_transceiver(system_id=system_id, password=password)
    assert excinfo.value.args[1] == status
    assert sim.binds() == [] and sim.counters["bind_failures"] == 1


def test_second_bind_on_a_connection_is_refused(make_sim, raw):
    client = raw(make_sim())
    assert client.bind(pdu.BIND_TRANSMITTER) == 0
    assert client.bind(pdu.BIND_TRANSCEIVER) == pdu.ESME_RALYBND


# -- submit_sm -------------------------------------------------------------------------------


@pytest.mark.parametrize(("id_format", "pattern"), [("hex", "[0-9a-f]+"), ("decimal", "[0-9]+")])
def test_message_ids_are_unique_in_the_chosen_format(make_sim, connect, id_format, pattern):
    sim = make_sim(id_format=id_format)
    client = connect(sim, "transmitter")
    ids = [submit_and_read_id(client, registered_delivery=0) for _ in range(20)]
    assert len(set(ids)) == 20
    assert all(re.fullmatch(pattern, i) for i in ids)
    assert [r["message_id"] for r in sim.submits] == ids


def test_submit_on_receiver_bind_is_rejected(make_sim, raw, connect):
    sim = make_sim()
    client = raw(sim)
    assert client.bind(pdu.BIND_RECEIVER) == 0
    body = smpplib.smpp.make_pdu(
        "submit_sm", client=connect(sim), source_addr="A", destination_addr="1", short_message=b"x"
    ).generate()[16:]
    client.send(pdu.SUBMIT_SM, 7, body)
    assert client.read()[:3] == (pdu.SUBMIT_SM_RESP, pdu.ESME_RINVBNDSTS, 7)


def test_submit_before_bind_is_rejected(make_sim, raw):
    client = raw(make_sim())
    client.send(pdu.SUBMIT_SM, 3, b"\x00" * 20)
    assert client.read()[:3] == (pdu.SUBMIT_SM_RESP, pdu.ESME_RINVBNDSTS, 3)


def test_throttling_above_the_rate_and_live_rate_change(make_sim, connect):
    sim = make_sim(rate_per_bind=5)
    client = connect(sim, "transmitter")
    seqs = [submit(client, registered_delivery=0) for _ in range(8)]
    resps = [read(client) for _ in seqs]
    assert [r.sequence for r in resps] == seqs
    assert [r.status for r in resps] == [0] * 5 + [pdu.ESME_RTHROTTLED] * 3
    assert all(r.message_id is None for r in resps[5:])
    assert sim.counters["throttled"] == 3
    assert [r["command_status"] for r in sim.submits][5:] == [0x58] * 3
    sim.set_rate(0)
    assert submit_and_read_id(client, registered_delivery=0)


def test_rejected_destination_gets_the_configured_status(make_sim, connect):
    sim = make_sim(reject_destinations={"447700900999": pdu.ESME_RINVDSTADR})
    client = connect(sim, "transmitter")
    submit(client, destination_addr="447700900999")
    resp = read(client)
    assert resp.status == pdu.ESME_RINVDSTADR and resp.message_id is None


def test_delayed_responses_keep_their_sequence_numbers(make_sim, connect):
    sim = make_sim(resp_delay_s=0.2)
    client = connect(sim, "transmitter")
    seqs = [submit(client, registered_delivery=0) for _ in range(5)]
    resps = [read(client) for _ in seqs]
    assert [r.sequence for r in resps] == seqs
    assert len({r.message_id for r in resps}) == 5


# -- receipts --------------------------------------------------------------------------------


def test_receipt_goes_to_a_receiver_of_the_same_system_id_only(make_sim, connect):
    sim = make_sim()
    tx = connect(sim, "transmitter")
    rx = connect(sim, "receiver")
    other = connect(sim, "receiver", system_id="sys2")
    assert sim.wait_for_binds(3)
    message_id = submit_and_read_id(tx, text=b"hello world, this is a long text")
    deliver = read(rx)
    assert deliver.command == "deliver_sm" and deliver.esm_class == 0x04
    assert deliver.receipted_message_id.decode() == message_id
    assert deliver.message_state == 2
    assert deliver.source_addr == b"447700900123" and deliver.destination_addr == b"TESTER"
    text = deliver.short_message.decode()
    assert re.fullmatch(
        rf"id:{message_id} sub:001 dlvrd:001 submit date:\d{{10}} done date:\d{{10}} "
        r"stat:DELIVRD err:000 text:hello world, this is",
        text,
    )
    ack(rx, deliver)
    assert sim.wait_for_counter("receipts_acked", 1)
    assert sim.counters["receipts_sent"] == 1
    assert nothing_to_read(other) and nothing_to_read(tx)


def test_receipts_rotate_over_receivers(make_sim, connect):
    sim = make_sim()
    trx = connect(sim, "transceiver")
    rx = connect(sim, "receiver")
    assert sim.wait_for_binds(2)
    for _ in range(4):
        submit(trx)
    ids, on_trx = [], []
    while len(ids) < 4 or len(on_trx) < 2:
        p = read(trx)
        if p.command == "submit_sm_resp":
            ids.append(p.message_id.decode())
        else:
            on_trx.append(p)
    on_rx = [read(rx), read(rx)]
    receipted = {p.receipted_message_id.decode() for p in on_trx + on_rx}
    assert receipted == set(ids)


def test_text_only_receipts(make_sim, connect):
    sim = make_sim(receipt_mode="text")
    trx = connect(sim, "transceiver")
    message_id = submit_and_read_id(trx)
    deliver = read(trx)
    assert deliver.receipted_message_id is None and deliver.message_state is None
    assert deliver.short_message.startswith(f"id:{message_id} ".encode())


def test_receipt_ids_can_differ_from_response_ids(make_sim, connect):
    sim = make_sim(id_format="hex", receipt_id_format="decimal", receipt_id_zero_pad=20)
    trx = connect(sim, "transceiver")
    message_id = submit_and_read_id(trx)
    deliver = read(trx)
    expected = str(int(message_id, 16)).zfill(20)
    assert deliver.short_message.startswith(f"id:{expected} ".encode())
    assert deliver.receipted_message_id.decode() == expected


def test_resp_delay_lets_the_receipt_arrive_first(make_sim, connect):
    sim = make_sim(resp_delay_s=0.5)
    trx = connect(sim, "transceiver")
    seq = submit(trx)
    first, second = read(trx), read(trx)
    assert first.command == "deliver_sm" and second.command == "submit_sm_resp"
    assert second.sequence == seq
    assert first.receipted_message_id == second.message_id


def test_outcomes_are_drawn_reproducibly_and_none_sends_nothing(make_sim, connect):
    outcomes = {"DELIVRD": 50, "UNDELIV": 30, "none": 20}
    draws = []
    for _ in range(2):
        sim = make_sim(outcomes=outcomes, seed=7)
        trx = connect(sim, "transceiver")
        for _ in range(30):
            submit(trx)
        assert sim.wait_for_submits(30)
        assert sim.wait_for(lambda s=sim: s.counters["resp_sent"] == 30)
        expected = sim.counters["receipts_queued"]
        stats, resps = {}, 0
        while resps < 30 or len(stats) < expected:
            p = read(trx)
            if p.command == "submit_sm_resp":
                resps += 1
            else:
                stats[p.receipted_message_id.decode()] = p.message_state
                ack(trx, p)
        order = [r["message_id"] for r in sim.submits]
        draws.append([stats.get(i) for i in order])
        # The records say which submits got which receipt, and which got none.
        assert [r["receipt"] for r in sim.submits] == [{2: "DELIVRD", 5: "UNDELIV", None: None}[d] for d in draws[-1]]
    assert draws[0] == draws[1]
    assert {2, 5, None} == set(draws[0])


def test_outcome_none_alone_from_the_command_line_sends_no_receipt(make_sim, connect, capsys):
    config = parse_config(["--account", "sys1:pw1", "--port", "0", "--outcomes", "none=3"])
    assert config.outcomes == {"none": 3.0}
    sim = make_sim(outcomes=config.outcomes, dlr_delay_s=0.0)
    trx = connect(sim, "transceiver")
    ids = [submit_and_read_id(trx) for _ in range(10)]
    submit_and_read_id(trx, registered_delivery=0)
    assert sim.wait_for(lambda: sim.counters["resp_sent"] == 11)
    assert sim.counters["receipts_queued"] == 0
    assert [r["message_id"] for r in sim.submits][:10] == ids
    assert {r["receipt"] for r in sim.submits} == {None}
    with pytest.raises(SystemExit):
        parse_config(["--help"])
    assert "none = that share gets no receipt" in " ".join(capsys.readouterr().out.split())


def test_registered_delivery_zero_sends_no_receipt(make_sim, connect):
    sim = make_sim()
    trx = connect(sim, "transceiver")
    submit_and_read_id(trx, registered_delivery=0)
    assert sim.counters["receipts_queued"] == 0


def test_each_segment_gets_its_own_id_and_receipt(make_sim, connect):
    sim = make_sim()
    trx = connect(sim, "transceiver")
    for part in (1, 2):
        udh = bytes((5, 0, 3, 0x2A, 2, part))
        submit(trx, text=udh + b"part %d" % part, esm_class=0x40)
    pdus = [read(trx) for _ in range(4)]
    ids = [p.message_id.decode() for p in pdus if p.command == "submit_sm_resp"]
    receipts = [p for p in pdus if p.command == "deliver_sm"]
    assert len(set(ids)) == 2
    assert [r.receipted_message_id.decode() for r in receipts] == ids
    assert receipts[1].short_message.endswith(b"text:part 2")
    assert [r["udh"] for r in sim.submits] == ["0500032a0201", "0500032a0202"]


def test_receipt_waits_for_a_receiver_to_bind(make_sim, connect):
    sim = make_sim()
    message_id = submit_and_read_id(connect(sim, "transmitter"))
    assert sim.counters["receipts_queued"] == 1 and sim.counters["receipts_sent"] == 0
    deliver = read(connect(sim, "receiver"))
    assert deliver.receipted_message_id.decode() == message_id


def test_nacked_receipt_is_resent(make_sim, connect):
    sim = make_sim(receipt_retry_delay_s=0.05)
    trx = connect(sim, "transceiver")
    message_id = submit_and_read_id(trx)
    first = read(trx)
    ack(trx, first, status=pdu.ESME_RSYSERR)
    again = read(trx)
    assert again.receipted_message_id.decode() == message_id
    assert again.sequence != first.sequence
    ack(trx, again)
    assert sim.wait_for_counter("receipts_acked", 1)
    counters = sim.counters
    assert counters["deliver_nacks"] == 1 and counters["redeliveries"] == 1


def test_receipt_unacked_when_its_bind_drops_goes_to_another_bind(make_sim, connect):
    sim = make_sim()
    tx = connect(sim, "transmitter")
    rx1 = connect(sim, "receiver")
    assert sim.wait_for_binds(2)
    message_id = submit_and_read_id(tx)
    assert read(rx1).receipted_message_id.decode() == message_id
    rx1.disconnect()  # never answered the deliver_sm
    assert sim.wait_for(lambda: len(sim.binds()) == 1)
    deliver = read(connect(sim, "receiver"))
    assert deliver.receipted_message_id.decode() == message_id
    assert sim.counters["requeued_on_drop"] == 1


def test_manual_receipts_and_mobile_originated(make_sim, connect):
    sim = make_sim(extra_tlv_in_receipts=True)
    rx = connect(sim, "receiver")
    assert sim.wait_for_binds(1)
    sim.send_receipt("sys1", "orphan42", stat="EXPIRED", err="027")
    receipt = read(rx)
    assert receipt.receipted_message_id == b"orphan42" and receipt.message_state == 3
    assert b"stat:EXPIRED err:027" in receipt.short_message
    ack(rx, receipt)
    sim.send_mo("sys1", "447700900555", "12345", "héllo".encode("utf-16-be"), data_coding=8)
    mo = read(rx)
    assert mo.esm_class == 0 and mo.data_coding == 8
    assert mo.short_message.decode("utf-16-be") == "héllo"
    assert mo.source_addr == b"447700900555" and mo.destination_addr == b"12345"
    ack(rx, mo)
    assert sim.wait_for(lambda: sim.counters["mo_acked"] == 1)


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


# -- codec and command line ------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=120))
def test_submit_sm_decoder_only_raises_decode_errors(body):
    try:
        pdu.parse_submit_sm(bytearray(body), 0, len(body))
    except pdu.PDUDecodeError:
        pass


def test_command_line_options_build_the_config():
    config = parse_config(
        [
            "--port",
            "0",
            "--account",
            "a:b",
            "--account",
            "c:d:e",
            "--rate",
            "5",
            "--outcomes",
            "DELIVRD=90,UNDELIV=5,none=5",
            "--id-format",
            "decimal",
            "--receipt-mode",
            "text",
            "--resp-delay",
            "0.5",
            "--dlr-delay",
            "2",
        ]
    )
    assert config.accounts == {"a": "b", "c": "d:e"}
    assert config.outcomes == {"DELIVRD": 90, "UNDELIV": 5, "none": 5}
    assert (config.rate_per_bind, config.dlr_delay_s, config.resp_delay_s) == (5, 2, 0.5)
    assert config.id_format == "decimal" and config.receipt_mode == "text"
    assert config.record_submits is False


def test_python_m_runs_until_sigterm(connect):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "smpp_transport.smsc", "--port", str(port), "--account", "sys1:pw1", "--rate", "0"],
        cwd=REPO,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "listening" in proc.stderr.readline()

        class Port:
            pass

        target = Port()
        target.port = port
        client = connect(target, "transceiver")
        assert submit_and_read_id(client, registered_delivery=0)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert read(client).command == "unbind"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_management_command_accepts_the_same_options():
    from smpp_transport.management.commands.smsc_simulator import Command
    from smpp_transport.smsc.cli import config_from_options

    parser = Command().create_parser("manage.py", "smsc_simulator")
    options = vars(
        parser.parse_args(
            [
                "--account",
                "sys:pw",
                "--port",
                "2775",
                "--outcomes",
                "DELIVRD=90,none=10",
                "--id-format",
                "hex",
                "--receipt-mode",
                "tlv+text",
                "--log",
                "submits.jsonl",
            ]
        )
    )
    config = config_from_options(options)
    assert config.accounts == {"sys": "pw"} and config.port == 2775
    assert config.outcomes == {"DELIVRD": 90, "none": 10}
    assert config.log_path == "submits.jsonl"


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
