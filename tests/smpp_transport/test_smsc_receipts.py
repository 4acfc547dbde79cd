"""The SMSC simulator's delivery receipts and mobile-originated messages, over loopback.

Synchronisation goes through the simulator's bounded wait_* helpers and blocking reads
with socket timeouts; nothing sleeps. Fixtures (make_sim, connect, raw) are in conftest.py.
"""

from __future__ import annotations

import re

import pytest

from smpp_transport.smsc import pdu
from smpp_transport.smsc.cli import parse_config
from tests.smpp_transport.smsc_client import (
    ack,
    nothing_to_read,
    read,
    submit,
    submit_and_read_id,
)

pytestmark = pytest.mark.timeout(30)


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
