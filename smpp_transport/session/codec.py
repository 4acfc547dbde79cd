"""SMPP 3.4 PDU bytes in and out for the bind.

Outgoing requests (bind, submit_sm, enquire_link, unbind) are built with smpplib's PDU
classes, so field limits and TLV encodings stay the library's. Incoming PDUs are decoded
here with :mod:`struct` instead of ``smpplib.smpp.parse_pdu`` because the library loses
data on exactly the PDUs that matter most (see issue 3, "smpplib facts"):

* a TLV smpplib knows but the PDU class does not list raises KeyError and the whole
  deliver_sm is lost; an unknown TLV is only skipped with ``allow_unknown_opt_params``;
* C-string TLVs are cut one byte short when the SMSC omits the NUL (receipted_message_id!);
* every decoded request PDU consumes one of *our* sequence numbers;
* it costs ~10 µs per submit_sm_resp, a tenth of the per-message budget of a fast bind.

The mandatory layout of deliver_sm / data_sm is fixed by the specification (§4.6.1,
§4.7.1), so decoding it directly is short and exact. Responses are built the same way.
"""

from __future__ import annotations

import struct
import threading
from typing import Final

from smpplib import command as smpp_command
from smpplib import consts, smpp
from smpplib.ptypes import flag, ostr

from smpp_transport.session.types import InboundPdu, OutboundPart

HEADER: Final = struct.Struct(">IIII")
U32: Final = struct.Struct(">I")
_TLV_HEAD: Final = struct.Struct(">HH")
HEADER_LEN: Final = 16
#: Far above any sane PDU (message_payload tops out at 64 KiB); a larger length means the
#: stream is desynchronised and must be dropped.
MAX_PDU_LEN: Final = 256 * 1024

GENERIC_NACK: Final = 0x80000000
BIND_RECEIVER: Final = 0x00000001
BIND_TRANSMITTER: Final = 0x00000002
SUBMIT_SM: Final = 0x00000004
SUBMIT_SM_RESP: Final = 0x80000004
DELIVER_SM: Final = 0x00000005
DELIVER_SM_RESP: Final = 0x80000005
UNBIND: Final = 0x00000006
UNBIND_RESP: Final = 0x80000006
BIND_TRANSCEIVER: Final = 0x00000009
ENQUIRE_LINK: Final = 0x00000015
ENQUIRE_LINK_RESP: Final = 0x80000015
ALERT_NOTIFICATION: Final = 0x00000102
DATA_SM: Final = 0x00000103
DATA_SM_RESP: Final = 0x80000103
RESPONSE_BIT: Final = 0x80000000

BIND_COMMANDS: Final = {"trx": "bind_transceiver", "tx": "bind_transmitter", "rx": "bind_receiver"}
BIND_RESP_IDS: Final = {"trx": 0x80000009, "tx": 0x80000002, "rx": 0x80000001}

ESME_ROK: Final = consts.SMPP_ESME_ROK
ESME_RSYSERR: Final = consts.SMPP_ESME_RSYSERR
ESME_RINVCMDID: Final = consts.SMPP_ESME_RINVCMDID
ESME_RX_T_APPN: Final = consts.SMPP_ESME_RX_T_APPN

#: Pause the whole bind and resend the same part.
THROTTLE_STATUSES: Final = frozenset({consts.SMPP_ESME_RTHROTTLED, consts.SMPP_ESME_RMSGQFUL})
#: Bad credentials: stop, never loop.
AUTH_STATUSES: Final = frozenset({consts.SMPP_ESME_RINVPASWD, consts.SMPP_ESME_RINVSYSID})
#: Bind refused for capacity (too many binds for the system_id, "bind failed"): wait and
#: try again with a long backoff; another session of the account may close.
BIND_CAPACITY_STATUSES: Final = frozenset({consts.SMPP_ESME_RBINDFAIL})
#: The SMSC's own trouble, not the message's: the part may be sent again later.
TRANSIENT_STATUSES: Final = frozenset(
    {
        consts.SMPP_ESME_RINVBNDSTS,
        consts.SMPP_ESME_RSYSERR,
        consts.SMPP_ESME_RX_T_APPN,
    }
)

STATUS_NAMES: Final[dict[int, str]] = {
    value: name[len("SMPP_") :]
    for name, value in vars(consts).items()
    if name.startswith("SMPP_ESME_") and isinstance(value, int)
}


class ProtocolError(Exception):
    """The byte stream is not valid SMPP: the connection cannot be trusted any more."""


def status_name(status: int) -> str:
    """``ESME_RTHROTTLED`` for 0x58; vendor codes as ``0x00000401``."""
    return STATUS_NAMES.get(status) or f"0x{status:08X}"


def classify(status: int) -> str:
    """Map a submit_sm_resp status to accepted / throttle / retry / failed."""
    if status == ESME_ROK:
        return "accepted"
    if status in THROTTLE_STATUSES:
        return "throttle"
    if status in TRANSIENT_STATUSES:
        return "retry"
    return "failed"


class SequenceGenerator:
    """Thread-safe sequence numbers with smpplib's generator interface.

    smpplib's default generator is a bare counter; the sender and the reader thread (which
    builds responses and, through smpplib, would consume numbers too) share this one.
    """

    MIN_SEQUENCE: Final = 0x00000001
    MAX_SEQUENCE: Final = 0x7FFFFFFF

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sequence = 0

    @property
    def sequence(self) -> int:
        return self._sequence

    def next_sequence(self) -> int:
        with self._lock:
            self._sequence = self.MIN_SEQUENCE if self._sequence >= self.MAX_SEQUENCE else self._sequence + 1
            return self._sequence


def build_bind(client: object, mode: str, *, system_id: str, password: str, system_type: str) -> tuple[int, bytes]:
    pdu = smpp.make_pdu(
        BIND_COMMANDS[mode],
        client=client,
        system_id=system_id,
        password=password,
        system_type=system_type,
        addr_ton=0,
        addr_npi=0,
        address_range="",
    )
    return pdu.sequence, pdu.generate()


def build_request(client: object, command_name: str) -> tuple[int, bytes]:
    """A body-less request: enquire_link or unbind."""
    pdu = smpp.make_pdu(command_name, client=client)
    return pdu.sequence, pdu.generate()


def build_submit_sm(client: object, part: OutboundPart) -> tuple[int, bytes]:
    """Encode one part; raises ValueError if it cannot be encoded.

    A part without TLVs (every single-SMS part and every UDH-concatenated one: nearly all
    traffic) is packed directly, byte for byte what smpplib's SubmitSM produces (the tests
    compare the two on generated parts), at a tenth of its cost: smpplib's generic field
    machinery was the largest CPU cost of a bind worker. Parts with TLVs go through smpplib.
    """
    if part.optional_params:
        return _build_submit_sm_smpplib(client, part)
    try:
        short_message = part.short_message or b""
        body = b"".join(
            (
                b"\0",  # service_type: default
                bytes((part.source_addr_ton or 0, part.source_addr_npi or 0)),
                _c_string(part.source_addr, 21),
                bytes((part.dest_addr_ton or 0, part.dest_addr_npi or 0)),
                _c_string(part.destination_addr, 21),
                bytes((part.esm_class or 0, 0, 0)),  # esm_class, protocol_id, priority_flag
                b"\0",  # schedule_delivery_time: immediate
                _c_string(part.validity_period, 17),
                bytes((part.registered_delivery or 0, 0, part.data_coding or 0, 0, len(short_message))),
                short_message,
            )
        )
    except (ValueError, TypeError) as exc:  # a field out of range, or text not Latin-1
        raise ValueError(f"cannot encode submit_sm: {exc!r}") from exc
    sequence = client.next_sequence()  # type: ignore[attr-defined]
    return sequence, HEADER.pack(HEADER_LEN + len(body), SUBMIT_SM, ESME_ROK, sequence) + body


def _c_string(value: str | None, limit: int) -> bytes:
    """A C-string field as smpplib writes it: cut to ``limit - 1`` characters, NUL-ended."""
    if not value:
        return b"\0"
    return value[: limit - 1].encode("latin-1") + b"\0"


def _build_submit_sm_smpplib(client: object, part: OutboundPart) -> tuple[int, bytes]:
    try:
        pdu = smpp.make_pdu(
            "submit_sm",
            client=client,
            source_addr_ton=part.source_addr_ton,
            source_addr_npi=part.source_addr_npi,
            source_addr=part.source_addr,
            dest_addr_ton=part.dest_addr_ton,
            dest_addr_npi=part.dest_addr_npi,
            destination_addr=part.destination_addr,
            esm_class=part.esm_class,
            registered_delivery=part.registered_delivery,
            data_coding=part.data_coding,
            validity_period=part.validity_period,
            short_message=part.short_message,
            **part.optional_params,
        )
        return pdu.sequence, pdu.generate()
    except (struct.error, TypeError, UnicodeError, KeyError, AttributeError) as exc:
        raise ValueError(f"cannot encode submit_sm: {exc!r}") from exc


def encode_response(command_id: int, sequence: int, status: int = ESME_ROK, body: bytes = b"") -> bytes:
    return HEADER.pack(HEADER_LEN + len(body), command_id, status, sequence) + body


def c_string(data: bytes | bytearray, start: int, end: int) -> bytes:
    """The C-string at ``start`` (without its NUL), never reading past ``end``."""
    nul = data.find(b"\0", start, end)
    return bytes(data[start : nul if nul >= 0 else end])


def _tlv_kinds() -> dict[str, str]:
    kinds: dict[str, str] = {}
    for cls in (
        smpp_command.DeliverSM,
        smpp_command.DataSM,
        smpp_command.SubmitSM,
        smpp_command.DataSMResp,
        smpp_command.AlertNotification,
    ):
        for name, param in cls.params.items():
            if param.type is int:
                kinds.setdefault(name, "int")
            elif param.type is str:
                kinds.setdefault(name, "str")
            elif param.type in (ostr, flag):
                kinds.setdefault(name, "octets")
    return kinds


_TLV_NAMES: Final = {code: name for name, code in consts.OPTIONAL_PARAMS.items()}
_TLV_KINDS: Final = _tlv_kinds()


def parse_tlvs(data: bytes, pos: int) -> dict:
    """Decode every TLV from ``pos`` to the end; unknown tags are kept, never dropped."""
    params: dict = {}
    end = len(data)
    while pos + 4 <= end:
        tag, length = _TLV_HEAD.unpack_from(data, pos)
        pos += 4
        if pos + length > end:
            raise ProtocolError(f"TLV 0x{tag:04x} runs past the end of the PDU")
        value = data[pos : pos + length]
        pos += length
        name = _TLV_NAMES.get(tag)
        if name is None:
            params[f"tlv_0x{tag:04x}"] = value
            continue
        kind = _TLV_KINDS.get(name)
        if kind == "int" and value:
            params[name] = int.from_bytes(value, "big")
        elif kind == "str":
            params[name] = value.split(b"\0", 1)[0]
        else:
            params[name] = value
    return params


def parse_inbound(frame: bytes, *, system_id: str, received_at: float) -> InboundPdu:
    """Decode a deliver_sm or data_sm (mandatory fields per SMPP 3.4, then all TLVs)."""
    command_id = U32.unpack_from(frame, 4)[0]
    end = len(frame)
    pos = HEADER_LEN

    def cstr() -> bytes:
        nonlocal pos
        nul = frame.index(b"\0", pos, end)
        value = frame[pos:nul]
        pos = nul + 1
        return value

    try:
        cstr()  # service_type
        pos += 2  # source_addr_ton, source_addr_npi
        source = cstr()
        pos += 2  # dest_addr_ton, dest_addr_npi
        destination = cstr()
        if command_id == DELIVER_SM:
            esm_class = frame[pos]
            pos += 3  # esm_class, protocol_id, priority_flag
            cstr()  # schedule_delivery_time
            cstr()  # validity_period
            data_coding = frame[pos + 2]
            sm_length = frame[pos + 4]
            pos += 5  # registered_delivery .. sm_length
            short_message = frame[pos : pos + sm_length]
            if len(short_message) != sm_length:
                raise ProtocolError("short_message runs past the end of the PDU")
            pos += sm_length
        else:
            esm_class = frame[pos]
            data_coding = frame[pos + 2]
            pos += 3  # esm_class, registered_delivery, data_coding
            short_message = b""
        params = parse_tlvs(frame, pos)
    except (IndexError, ValueError) as exc:
        raise ProtocolError(f"malformed PDU 0x{command_id:08x}: {exc}") from exc
    return InboundPdu(
        system_id=system_id,
        source_addr=source.decode("latin-1"),
        destination_addr=destination.decode("latin-1"),
        esm_class=esm_class,
        data_coding=data_coding,
        short_message=bytes(short_message),
        optional_params=params,
        received_at=received_at,
    )
