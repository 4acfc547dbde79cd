"""Unit tests of the bind's PDU codec and part bookkeeping (no sockets)."""

from __future__ import annotations

import struct
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from smpplib import smpp
from smpplib.client import Client

from smpp_transport.session import codec
from smpp_transport.session.codec import ProtocolError, SequenceGenerator
from smpp_transport.session.pacing import Pacer
from smpp_transport.session.types import BindConfig, OutboundPart
from smpp_transport.session.window import SubmitWindow


def tlv(tag: int, value: bytes) -> bytes:
    return struct.pack(">HH", tag, len(value)) + value


def deliver_sm(
    seq: int = 7, *, short_message: bytes = b"", esm_class: int = 0x04, data_coding: int = 0, tlvs: bytes = b""
) -> bytes:
    body = (
        b"\0"
        + bytes([1, 1])
        + b"447700900001\0"
        + bytes([5, 0])
        + b"Brand\0"
        + bytes([esm_class, 0, 0])
        + b"\0"
        + b"\0"
        + bytes([0, 0, data_coding, 0, len(short_message)])
        + short_message
        + tlvs
    )
    return struct.pack(">IIII", 16 + len(body), codec.DELIVER_SM, 0, seq) + body


RECEIPT_TEXT = (
    b"id:1a2b3c sub:001 dlvrd:001 submit date:2511211200 done date:2511211201 stat:DELIVRD err:000 text:hello"
)


def parse(frame: bytes):
    return codec.parse_inbound(frame, system_id="sys1", received_at=1.0)


def test_receipt_fields_and_tlvs_are_decoded() -> None:
    frame = deliver_sm(short_message=RECEIPT_TEXT, tlvs=tlv(0x001E, b"1a2b3c\0") + tlv(0x0427, b"\x02"))
    pdu = parse(frame)
    assert pdu.source_addr == "447700900001"
    assert pdu.destination_addr == "Brand"
    assert pdu.esm_class == 0x04
    assert pdu.short_message == RECEIPT_TEXT
    assert pdu.optional_params == {"receipted_message_id": b"1a2b3c", "message_state": 2}
    assert pdu.system_id == "sys1"


def test_receipted_message_id_without_nul_keeps_its_last_character() -> None:
    # smpplib cuts this to b"1a2b3"; the id would then never match its submit.
    pdu = parse(deliver_sm(short_message=RECEIPT_TEXT, tlvs=tlv(0x001E, b"1a2b3c")))
    assert pdu.optional_params["receipted_message_id"] == b"1a2b3c"


def test_unknown_and_unlisted_tlvs_are_kept_not_fatal() -> None:
    # 0x1400 is a vendor tag; 0x0005 (dest_addr_subunit) is known to smpplib but not listed
    # for deliver_sm, which makes smpplib raise KeyError and lose the whole PDU.
    frame = deliver_sm(
        short_message=RECEIPT_TEXT, tlvs=tlv(0x1400, b"vendor") + tlv(0x0005, b"\x01") + tlv(0x001E, b"1a2b3c\0")
    )
    with pytest.raises(KeyError):
        smpp.parse_pdu(frame, client=Client("x", 1, allow_unknown_opt_params=True), allow_unknown_opt_params=True)
    pdu = parse(frame)
    assert pdu.optional_params == {
        "tlv_0x1400": b"vendor",
        "dest_addr_subunit": 1,
        "receipted_message_id": b"1a2b3c",
    }


def test_data_sm_carries_its_text_in_message_payload() -> None:
    body = (
        b"\0"
        + bytes([1, 1])
        + b"447700900001\0"
        + bytes([5, 0])
        + b"Brand\0"
        + bytes([0x04, 1, 8])
        + tlv(0x0424, "héllo".encode("utf-16-be"))
    )
    frame = struct.pack(">IIII", 16 + len(body), codec.DATA_SM, 0, 3) + body
    pdu = parse(frame)
    assert pdu.data_coding == 8
    assert pdu.short_message == b""
    assert pdu.optional_params["message_payload"].decode("utf-16-be") == "héllo"


@pytest.mark.parametrize(
    "frame",
    [
        deliver_sm(short_message=b"abc")[:-2],  # short_message cut
        deliver_sm(tlvs=tlv(0x001E, b"123"))[:-1],  # TLV cut
        struct.pack(">IIII", 20, codec.DELIVER_SM, 0, 1) + b"abcd",  # no NUL anywhere
    ],
)
def test_malformed_pdus_raise_protocol_error(frame: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse(frame)


def test_status_names_and_classes() -> None:
    assert codec.status_name(0x45) == "ESME_RSUBMITFAIL"
    assert codec.status_name(0x58) == "ESME_RTHROTTLED"
    assert codec.status_name(0x401) == "0x00000401"
    assert codec.classify(0) == "accepted"
    assert codec.classify(0x58) == codec.classify(0x14) == "throttle"
    assert codec.classify(0x08) == "retry"
    assert codec.classify(0x0B) == codec.classify(0x45) == "failed"


def client() -> Client:
    return Client("x", 1, sequence_generator=SequenceGenerator(), allow_unknown_opt_params=True)


def part(ref: object = 1, **overrides) -> OutboundPart:
    fields = dict(
        ref=ref,
        source_addr="Brand",
        source_addr_ton=5,
        source_addr_npi=0,
        destination_addr="447700900123",
        short_message=b"hello",
    )
    fields.update(overrides)
    return OutboundPart(**fields)


def test_submit_sm_round_trips_through_smpplib() -> None:
    seq, raw = codec.build_submit_sm(
        client(),
        part(
            esm_class=0x40,
            data_coding=8,
            validity_period="000001000000000R",
            optional_params={"sar_msg_ref_num": 7, "sar_total_segments": 2, "sar_segment_seqnum": 1},
        ),
    )
    decoded = smpp.parse_pdu(raw, client=client(), allow_unknown_opt_params=True)
    assert decoded.sequence == seq
    assert decoded.destination_addr == b"447700900123"
    assert decoded.short_message == b"hello"
    assert (decoded.esm_class, decoded.data_coding, decoded.registered_delivery) == (0x40, 8, 1)
    assert decoded.validity_period == b"000001000000000R"
    assert (decoded.sar_msg_ref_num, decoded.sar_total_segments) == (7, 2)


def test_unencodable_part_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        codec.build_submit_sm(client(), part(short_message=b"x" * 300))


def test_sequence_generator_is_unique_across_threads_and_wraps() -> None:
    gen = SequenceGenerator()
    seen: list[int] = []

    def draw() -> None:
        seen.extend(gen.next_sequence() for _ in range(5000))

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(seen)) == 20000
    gen._sequence = SequenceGenerator.MAX_SEQUENCE
    assert gen.next_sequence() == 1


def test_config_refuses_what_smpplib_would_silently_truncate() -> None:
    with pytest.raises(ValueError, match="password"):
        BindConfig("h", 1, "sys", "123456789")
    with pytest.raises(ValueError, match="system_id"):
        BindConfig("h", 1, "s" * 16, "pw")
    assert "secret" not in repr(BindConfig("h", 1, "sys", "secret"))


# -- SubmitWindow ------------------------------------------------------------------------


def window(size: int = 3, retries: int = 2) -> SubmitWindow:
    return SubmitWindow(size, Pacer(0), retries)


def send(w: SubmitWindow, now: float = 0.0, first_seq: int = 100) -> list[int]:
    taken = w.take(now)
    seqs = list(range(first_seq, first_seq + len(taken)))
    w.register(zip(seqs, taken, strict=True), now + 10)
    return seqs


def test_window_never_takes_more_than_its_size() -> None:
    w = window(3)
    batch = w.enqueue([part(i) for i in range(5)])
    seqs = send(w)
    assert len(seqs) == 3 and w.take(0.0) == []
    assert w.on_response(seqs[0], 0, "m0", 0.0) is False
    assert [e.part.ref for e in w.take(0.0)] == [3]
    assert batch.results[0].outcome == "accepted" and batch.results[0].message_id == "m0"
    assert w.high_water == 3


def test_throttled_parts_are_resent_first_and_in_their_original_order() -> None:
    w = window(3)
    batch = w.enqueue([part(i) for i in range(5)])
    seqs = send(w)
    # Responses come back in reverse order; both throttled parts must keep their order.
    assert w.on_response(seqs[2], 0x58, None, 0.0) is True
    assert w.on_response(seqs[1], 0x58, None, 0.0) is True
    assert w.on_response(seqs[0], 0, "m0", 0.0) is False
    assert [e.part.ref for e in w.take(0.0)] == [1, 2, 3]
    assert w.throttles == 2 and batch.remaining == 4


def test_flows_take_turns_paced_parts_first_and_each_keeps_its_order() -> None:
    """Two chunks of one campaign, a call without a flow, then a capped campaign's part
    handed at its slot: the paced part goes next, the others take turns a part each."""
    w = window(1)
    w.enqueue([part(i, flow="bulk") for i in range(3)])
    w.enqueue([part(i, flow="bulk") for i in (3, 4)])
    w.enqueue([part(20), part(21)])
    order = []
    for k in range(8):
        if k == 1:
            w.enqueue([part(10, flow="capped", paced=True)])
        (seq,) = send(w, first_seq=100 + k)
        order.append(w.inflight[seq].part.ref)
        w.on_response(seq, 0, f"m{k}", 0.0)
    assert order == [0, 10, 20, 1, 21, 2, 3, 4]
    assert not w.has_queued and w.queued == 0


def test_throttle_retries_are_bounded() -> None:
    w = window(1, retries=2)
    batch = w.enqueue([part(0)])
    for attempt in range(3):
        (seq,) = send(w, first_seq=10 + attempt)
        w.on_response(seq, 0x14, None, 0.0)
    assert batch.done.is_set()
    result = batch.results[0]
    assert (result.outcome, result.status_name) == ("retry", "ESME_RMSGQFUL")


def test_statuses_timeouts_and_late_responses() -> None:
    w = window(4)
    batch = w.enqueue([part(i) for i in range(4)])
    seqs = send(w, now=0.0)
    w.on_response(seqs[0], 0x0B, None, 0.0)
    w.on_response(seqs[1], 0x08, None, 0.0)
    assert w.expire(5.0) == 0
    assert w.expire(10.0) == 2
    assert w.on_response(seqs[2], 0, "late", 0.0) is None and w.late == 1
    outcomes = [(r.outcome, r.status_name) for r in batch.results]
    assert outcomes == [("failed", "ESME_RINVDSTADR"), ("retry", "ESME_RSYSERR"), ("unknown", None), ("unknown", None)]
    assert w.used == 0


def test_unsent_parts_go_back_and_cancelled_ones_are_skipped() -> None:
    w = window(3)
    batch = w.enqueue([part(i) for i in range(3)])
    taken = w.take(0.0)
    sent = list(zip([1, 2, 3], taken, strict=True))
    w.register(sent, 10.0)
    w.unsent(sent[1:])  # only the first PDU was wholly written
    assert w.used == 1 and w.queued == 2
    other = w.enqueue([part(9)])
    assert w.cancel_unsent(batch) == 2
    (nine,) = w.take(0.0)
    assert nine.part.ref == 9
    w.register([(4, nine)], 10.0)
    assert w.fail_inflight() == 2 and batch.done.is_set() and other.done.is_set()
    assert [r.outcome for r in batch.results] == ["unknown", "retry", "retry"]


_address = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=25)


@settings(max_examples=300, deadline=None)
@given(
    source=_address,
    destination=_address,
    ton=st.integers(0, 6),
    npi=st.integers(0, 18),
    short_message=st.binary(max_size=255),
    data_coding=st.sampled_from([0, 3, 8, 0xF0]),
    esm_class=st.sampled_from([0, 0x40]),
    registered=st.integers(0, 3),
    validity=st.one_of(st.none(), st.just(""), st.text(alphabet="0123456789R+-", max_size=20)),
)
def test_fast_submit_sm_is_byte_for_byte_smpplibs(
    source, destination, ton, npi, short_message, data_coding, esm_class, registered, validity
) -> None:
    """The direct encoder (parts without TLVs) must equal smpplib's SubmitSM exactly."""
    p = part(
        source_addr=source,
        destination_addr=destination,
        source_addr_ton=ton,
        source_addr_npi=npi,
        dest_addr_ton=npi % 7,
        dest_addr_npi=ton,
        short_message=short_message,
        data_coding=data_coding,
        esm_class=esm_class,
        registered_delivery=registered,
        validity_period=validity,
    )
    fast_seq, fast = codec.build_submit_sm(client(), p)
    slow_seq, slow = codec._build_submit_sm_smpplib(client(), p)
    assert (fast_seq, fast) == (slow_seq, slow)


def test_fast_submit_sm_golden_vector() -> None:
    seq, raw = codec.build_submit_sm(client(), part(validity_period="000001000000000R"))
    assert seq == 1
    assert raw.hex() == (
        "00000047"
        "00000004"
        "00000000"
        "00000001"  # header: length, submit_sm, status, sequence
        "00"
        "0500"
        "4272616e6400"  # service_type, TON/NPI, "Brand"
        "0101"
        "34343737303039303031323300"  # dest TON/NPI, "447700900123"
        "000000"
        "00"
        "30303030303130303030303030303052"
        "00"  # esm, pid, priority, schedule, validity
        "01000000"
        "05"
        "68656c6c6f"  # registered, replace, coding, default id, length, "hello"
    )


def test_fast_submit_sm_refuses_what_cannot_be_encoded() -> None:
    with pytest.raises(ValueError):
        codec.build_submit_sm(client(), part(short_message=b"x" * 256))
    with pytest.raises(ValueError):
        codec.build_submit_sm(client(), part(source_addr="Brand\u20ac"))
    with pytest.raises(ValueError):
        codec.build_submit_sm(client(), part(esm_class=256))


def test_an_answer_read_before_the_write_is_recorded_still_bounds_the_stamp() -> None:
    # The reader can apply a response before the session thread has told the pacer the
    # write happened; the pacer must still learn when the answer was read.
    pacer = Pacer(1.0)
    w = SubmitWindow(3, pacer, 2)
    w.enqueue([part(1)])
    entry = w.take(1.0)[0]
    w.register([(100, entry)], 11.0)
    assert w.on_response(100, 0, "m1", 1.1) is False
    w.written(entry, 1.2)
    # The stamp was before the answer (1.1) and so before the write was recorded: the next
    # send may go one second after that, not UNANSWERED_S later as for an unanswered one.
    assert pacer.earliest(1.3) == pytest.approx(2.2)
