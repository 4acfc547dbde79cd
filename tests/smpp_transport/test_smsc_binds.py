"""The SMSC simulator's binds and submit_sm answers, against smpplib and raw sockets over loopback.

Synchronisation goes through the simulator's bounded wait_* helpers and blocking reads
with socket timeouts; nothing sleeps. Fixtures (make_sim, connect, raw) are in conftest.py.
"""

from __future__ import annotations

import re

import pytest
import smpplib.client
import smpplib.exceptions
import smpplib.smpp

from smpp_transport.smsc import pdu
from tests.smpp_transport.smsc_client import (
    read,
    submit,
    submit_and_read_id,
)

pytestmark = pytest.mark.timeout(30)


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
