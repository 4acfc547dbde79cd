"""Minimal SMPP 3.4 PDU codec for the SMSC simulator.

Hand-written with :mod:`struct` instead of reusing smpplib's PDU classes because the
simulator must decode tens of thousands of submit_sm per second on one core: smpplib builds
an object with dozens of attributes per PDU, which would make the simulator, not the client
under test, the bottleneck of every benchmark. Only the bodies the simulator needs are
covered (bind, submit_sm, deliver_sm, their responses); everything works on offsets into
the connection's receive buffer so that a PDU is sliced only for the fields that are used.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

HEADER = struct.Struct(">IIII")
HEADER_LEN = 16
MAX_PDU_LEN = 64 * 1024
_U32 = struct.Struct(">I")
_TLV_HEAD = struct.Struct(">HH")

# Command ids (SMPP 3.4, section 5.1.2.1).
GENERIC_NACK = 0x80000000
BIND_RECEIVER = 0x00000001
BIND_TRANSMITTER = 0x00000002
QUERY_SM = 0x00000003
SUBMIT_SM = 0x00000004
SUBMIT_SM_RESP = 0x80000004
DELIVER_SM = 0x00000005
DELIVER_SM_RESP = 0x80000005
UNBIND = 0x00000006
UNBIND_RESP = 0x80000006
BIND_TRANSCEIVER = 0x00000009
ENQUIRE_LINK = 0x00000015
ENQUIRE_LINK_RESP = 0x80000015
RESPONSE_BIT = 0x80000000

#: bind command id -> bind type name used in the simulator's records.
BIND_TYPES = {BIND_TRANSMITTER: "tx", BIND_RECEIVER: "rx", BIND_TRANSCEIVER: "trx"}

# Command status values (SMPP 3.4, section 5.1.3).
ESME_ROK = 0x00
ESME_RINVMSGLEN = 0x01
ESME_RINVCMDLEN = 0x02
ESME_RINVCMDID = 0x03
ESME_RINVBNDSTS = 0x04
ESME_RALYBND = 0x05
ESME_RSYSERR = 0x08
ESME_RINVSRCADR = 0x0A
ESME_RINVDSTADR = 0x0B
ESME_RBINDFAIL = 0x0D
ESME_RINVPASWD = 0x0E
ESME_RINVSYSID = 0x0F
ESME_RTHROTTLED = 0x58

# Optional parameter (TLV) tags used by the simulator.
TLV_SC_INTERFACE_VERSION = 0x0210
TLV_RECEIPTED_MESSAGE_ID = 0x001E
TLV_MESSAGE_STATE = 0x0427
TLV_MESSAGE_PAYLOAD = 0x0424
TLV_VENDOR_TEST = 0x1400

#: TLV tag -> name, so the JSON log reads like the specification.
TLV_NAMES = {
    0x0005: "dest_addr_subunit",
    0x0006: "dest_network_type",
    0x0007: "dest_bearer_type",
    0x0008: "dest_telematics_id",
    0x000D: "source_addr_subunit",
    0x000E: "source_network_type",
    0x000F: "source_bearer_type",
    0x0010: "source_telematics_id",
    0x0017: "qos_time_to_live",
    0x0019: "payload_type",
    0x001D: "additional_status_info_text",
    0x001E: "receipted_message_id",
    0x0030: "ms_msg_wait_facilities",
    0x0201: "privacy_indicator",
    0x0202: "source_subaddress",
    0x0203: "dest_subaddress",
    0x0204: "user_message_reference",
    0x0205: "user_response_code",
    0x020A: "source_port",
    0x020B: "destination_port",
    0x020C: "sar_msg_ref_num",
    0x020D: "language_indicator",
    0x020E: "sar_total_segments",
    0x020F: "sar_segment_seqnum",
    0x0210: "sc_interface_version",
    0x0302: "callback_num_pres_ind",
    0x0303: "callback_num_atag",
    0x0304: "number_of_messages",
    0x0381: "callback_num",
    0x0420: "dpf_result",
    0x0421: "set_dpf",
    0x0422: "ms_availability_status",
    0x0423: "network_error_code",
    0x0424: "message_payload",
    0x0425: "delivery_failure_reason",
    0x0426: "more_messages_to_send",
    0x0427: "message_state",
    0x0501: "ussd_service_op",
    0x1201: "display_time",
    0x1203: "sms_signal",
    0x1204: "ms_validity",
    0x130C: "alert_on_message_delivery",
    0x1380: "its_reply_type",
    0x1383: "its_session_info",
}


class PDUDecodeError(ValueError):
    """A body that cannot be decoded; ``status`` is what the response should carry."""

    def __init__(self, status: int, reason: str = "") -> None:
        super().__init__(reason or f"undecodable PDU body (status 0x{status:02X})")
        self.status = status


class BindRequest(NamedTuple):
    """The fields of bind_transmitter / bind_receiver / bind_transceiver."""

    system_id: str
    password: str
    system_type: str
    interface_version: int
    addr_ton: int
    addr_npi: int
    address_range: str


class SubmitSm(NamedTuple):
    """The fields of a submit_sm; addresses stay bytes until someone needs text."""

    service_type: bytes
    source_addr_ton: int
    source_addr_npi: int
    source_addr: bytes
    dest_addr_ton: int
    dest_addr_npi: int
    destination_addr: bytes
    esm_class: int
    protocol_id: int
    priority_flag: int
    schedule_delivery_time: bytes
    validity_period: bytes
    registered_delivery: int
    replace_if_present_flag: int
    data_coding: int
    sm_default_msg_id: int
    short_message: bytes
    tlvs: tuple[tuple[int, bytes], ...]


def encode_pdu(command_id: int, status: int, sequence: int, body: bytes = b"") -> bytes:
    """Frame ``body`` with the 16-byte header."""
    return HEADER.pack(HEADER_LEN + len(body), command_id, status, sequence) + body


def cstring(value: str | bytes) -> bytes:
    """Encode a C-Octet String (ASCII text followed by NUL)."""
    if isinstance(value, str):
        value = value.encode("latin-1")
    return value + b"\x00"


def encode_tlv(tag: int, value: bytes) -> bytes:
    """Encode one optional parameter."""
    return _TLV_HEAD.pack(tag, len(value)) + value


def _cstr(buf: bytearray, pos: int, end: int, max_len: int, status: int) -> tuple[bytes, int]:
    """Read a C-Octet String of at most ``max_len`` octets including its NUL."""
    nul = buf.find(0, pos, end)
    if nul < 0 or nul - pos >= max_len:
        raise PDUDecodeError(status, "C-string without NUL or too long")
    return bytes(buf[pos:nul]), nul + 1


def parse_tlvs(buf: bytearray, pos: int, end: int) -> tuple[tuple[int, bytes], ...]:
    """Read the optional parameters between ``pos`` and ``end``."""
    out = []
    while pos < end:
        if end - pos < 4:
            raise PDUDecodeError(ESME_RINVCMDLEN, "truncated TLV header")
        tag, length = _TLV_HEAD.unpack_from(buf, pos)
        pos += 4
        if pos + length > end:
            raise PDUDecodeError(ESME_RINVCMDLEN, "TLV longer than the PDU")
        out.append((tag, bytes(buf[pos : pos + length])))
        pos += length
    return tuple(out)


def parse_bind(buf: bytearray, pos: int, end: int) -> BindRequest:
    """Decode a bind body; the status on error is the one a real SMSC would send."""
    system_id, pos = _cstr(buf, pos, end, 16, ESME_RINVSYSID)
    password, pos = _cstr(buf, pos, end, 9, ESME_RINVPASWD)
    system_type, pos = _cstr(buf, pos, end, 13, ESME_RBINDFAIL)
    if end - pos < 3:
        raise PDUDecodeError(ESME_RINVCMDLEN, "truncated bind body")
    version, ton, npi = buf[pos], buf[pos + 1], buf[pos + 2]
    address_range, pos = _cstr(buf, pos + 3, end, 41, ESME_RBINDFAIL)
    return BindRequest(
        system_id.decode("latin-1"),
        password.decode("latin-1"),
        system_type.decode("latin-1"),
        version,
        ton,
        npi,
        address_range.decode("latin-1"),
    )


def parse_submit_sm(buf: bytearray, pos: int, end: int) -> SubmitSm:
    """Decode a submit_sm body (SMPP 3.4, section 4.4.1)."""
    service_type, pos = _cstr(buf, pos, end, 6, ESME_RINVCMDLEN)
    if end - pos < 2:
        raise PDUDecodeError(ESME_RINVCMDLEN, "truncated submit_sm")
    src_ton, src_npi = buf[pos], buf[pos + 1]
    source_addr, pos = _cstr(buf, pos + 2, end, 21, ESME_RINVSRCADR)
    if end - pos < 2:
        raise PDUDecodeError(ESME_RINVCMDLEN, "truncated submit_sm")
    dst_ton, dst_npi = buf[pos], buf[pos + 1]
    destination_addr, pos = _cstr(buf, pos + 2, end, 21, ESME_RINVDSTADR)
    if end - pos < 3:
        raise PDUDecodeError(ESME_RINVCMDLEN, "truncated submit_sm")
    esm_class, protocol_id, priority = buf[pos], buf[pos + 1], buf[pos + 2]
    schedule, pos = _cstr(buf, pos + 3, end, 17, ESME_RINVCMDLEN)
    validity, pos = _cstr(buf, pos, end, 17, ESME_RINVCMDLEN)
    if end - pos < 5:
        raise PDUDecodeError(ESME_RINVCMDLEN, "truncated submit_sm")
    registered, replace, coding, default_id, sm_length = buf[pos : pos + 5]
    pos += 5
    if pos + sm_length > end:
        raise PDUDecodeError(ESME_RINVMSGLEN, "sm_length beyond the PDU")
    short_message = bytes(buf[pos : pos + sm_length])
    pos += sm_length
    tlvs = parse_tlvs(buf, pos, end) if pos < end else ()
    return SubmitSm(
        service_type,
        src_ton,
        src_npi,
        source_addr,
        dst_ton,
        dst_npi,
        destination_addr,
        esm_class,
        protocol_id,
        priority,
        schedule,
        validity,
        registered,
        replace,
        coding,
        default_id,
        short_message,
        tlvs,
    )


def encode_deliver_sm_body(
    *,
    source_addr_ton: int,
    source_addr_npi: int,
    source_addr: bytes,
    dest_addr_ton: int,
    dest_addr_npi: int,
    destination_addr: bytes,
    esm_class: int,
    data_coding: int,
    short_message: bytes,
    tlvs: bytes = b"",
) -> bytes:
    """Encode a deliver_sm body; text over 254 octets moves to message_payload."""
    if len(short_message) > 254:
        tlvs = encode_tlv(TLV_MESSAGE_PAYLOAD, short_message) + tlvs
        short_message = b""
    return b"".join(
        (
            b"\x00",  # service_type
            bytes((source_addr_ton, source_addr_npi)),
            source_addr,
            b"\x00",
            bytes((dest_addr_ton, dest_addr_npi)),
            destination_addr,
            b"\x00",
            bytes((esm_class, 0, 0)),  # esm_class, protocol_id, priority_flag
            b"\x00\x00",  # schedule_delivery_time, validity_period
            bytes((0, 0, data_coding, 0, len(short_message))),
            short_message,
            tlvs,
        )
    )


def peek_length(buf: bytearray, pos: int) -> int:
    """The command_length of the PDU starting at ``pos`` (at least 4 bytes present)."""
    return _U32.unpack_from(buf, pos)[0]
