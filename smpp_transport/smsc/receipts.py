"""Delivery receipts and mobile-originated messages as the simulator sends them.

A receipt's deliver_sm body is encoded once, when the outcome is drawn; only the sequence
number changes when it is sent again after a NACK or a dropped bind, which keeps re-sends
byte-identical (a client de-duplicating receipts sees exactly what a provider resends).
"""

from __future__ import annotations

import bisect
import random
import time
from itertools import accumulate

from . import pdu

#: receipt stat -> message_state TLV value (SMPP 3.4, section 5.2.28).
MESSAGE_STATES = {
    "ENROUTE": 1,
    "DELIVRD": 2,
    "EXPIRED": 3,
    "DELETED": 4,
    "UNDELIV": 5,
    "ACCEPTD": 6,
    "UNKNOWN": 7,
    "REJECTD": 8,
}

#: bytes outside printable ASCII become "?" in the receipt's text: field.
_PRINTABLE = bytes(b if 0x20 <= b < 0x7F else 0x3F for b in range(256))


class OutcomePicker:
    """Draws a receipt stat per submit from weights, reproducibly for a given seed."""

    def __init__(self, outcomes: dict[str, float], rng: random.Random) -> None:
        self._rng = rng
        self._stats: list[str | None] = [None if k == "none" else k for k in outcomes]
        self._cumulative = list(accumulate(float(w) for w in outcomes.values()))
        self._total = self._cumulative[-1]

    def pick(self) -> str | None:
        """A stat such as "DELIVRD", or None when no receipt is to be sent."""
        x = self._rng.random() * self._total
        return self._stats[bisect.bisect_right(self._cumulative, x)]


def format_message_id(number: int, fmt: str, zero_pad: int = 0) -> str:
    """Render a numeric id as lowercase hex or decimal, optionally zero-padded."""
    text = format(number, "x") if fmt == "hex" else str(number)
    return text.zfill(zero_pad) if zero_pad else text


class DeliverItem:
    """A deliver_sm waiting for (or awaiting the response to) delivery to a receiver bind."""

    __slots__ = ("system_id", "body", "kind", "message_id", "avoid_bind", "attempts")

    def __init__(self, system_id: str, body: bytes, kind: str, message_id: str | None) -> None:
        self.system_id = system_id
        self.body = body
        self.kind = kind  # "receipt" or "mo"
        self.message_id = message_id
        self.avoid_bind: int | None = None  # bind that failed it last, tried last next time
        self.attempts = 0


_date_cache: dict[int, bytes] = {}


def smpp_date(ts: float) -> bytes:
    """YYMMDDhhmm in UTC, cached per minute because every receipt needs two."""
    minute = int(ts // 60)
    text = _date_cache.get(minute)
    if text is None:
        if len(_date_cache) > 1024:
            _date_cache.clear()
        text = time.strftime("%y%m%d%H%M", time.gmtime(minute * 60)).encode()
        _date_cache[minute] = text
    return text


def message_text(sm: pdu.SubmitSm) -> bytes:
    """The first 20 characters of the user text, made printable ASCII for the receipt."""
    payload = sm.short_message
    if not payload:
        for tag, value in sm.tlvs:
            if tag == pdu.TLV_MESSAGE_PAYLOAD:
                payload = value
                break
    if sm.esm_class & 0x40 and payload:
        payload = payload[payload[0] + 1 :]
    if sm.data_coding == 8:
        text = payload.decode("utf-16-be", "replace")[:20]
        return text.encode("ascii", "replace").translate(_PRINTABLE)
    return payload[:20].translate(_PRINTABLE)


def receipt_body(
    *,
    message_id: str,
    stat: str,
    err: str,
    submit_ts: float,
    done_ts: float,
    text: bytes,
    handset: tuple[int, int, bytes],
    sender: tuple[int, int, bytes],
    with_tlvs: bool,
    extra_tlv: bool,
) -> bytes:
    """Encode the deliver_sm body of a receipt (esm_class 0x04).

    ``handset`` is the submit's destination (the receipt's source) and ``sender`` the
    submit's source (the receipt's destination), each as (ton, npi, address).
    """
    mid = message_id.encode("ascii")
    delivered = b"001" if stat == "DELIVRD" else b"000"
    short_message = b"".join(
        (
            b"id:",
            mid,
            b" sub:001 dlvrd:",
            delivered,
            b" submit date:",
            smpp_date(submit_ts),
            b" done date:",
            smpp_date(done_ts),
            b" stat:",
            stat.encode("ascii"),
            b" err:",
            err.encode("ascii"),
            b" text:",
            text,
        )
    )
    tlvs = b""
    if with_tlvs:
        state = MESSAGE_STATES.get(stat, MESSAGE_STATES["UNKNOWN"])
        tlvs = pdu.encode_tlv(pdu.TLV_RECEIPTED_MESSAGE_ID, mid + b"\x00") + pdu.encode_tlv(
            pdu.TLV_MESSAGE_STATE, bytes((state,))
        )
    if extra_tlv:
        tlvs += pdu.encode_tlv(pdu.TLV_VENDOR_TEST, b"SIM")
    return pdu.encode_deliver_sm_body(
        source_addr_ton=handset[0],
        source_addr_npi=handset[1],
        source_addr=handset[2],
        dest_addr_ton=sender[0],
        dest_addr_npi=sender[1],
        destination_addr=sender[2],
        esm_class=0x04,
        data_coding=0,
        short_message=short_message,
        tlvs=tlvs,
    )


def default_err(stat: str) -> str:
    """The err: field a provider would put next to a stat."""
    return "000" if stat in ("DELIVRD", "ACCEPTD", "ENROUTE") else "001"


def mo_body(source_addr: str, destination_addr: str, text: bytes, data_coding: int) -> bytes:
    """Encode the deliver_sm body of a mobile-originated message (esm_class 0)."""
    return pdu.encode_deliver_sm_body(
        source_addr_ton=1,
        source_addr_npi=1,
        source_addr=source_addr.encode("latin-1"),
        dest_addr_ton=0,
        dest_addr_npi=0,
        destination_addr=destination_addr.encode("latin-1"),
        esm_class=0x00,
        data_coding=data_coding,
        short_message=text,
    )
