"""MM4 messages (3GPP TS 23.140 §8.4), built and parsed with the standard library's email package.

Pure: no Django, no sockets. :mod:`.build` makes an MM4_forward.REQ (and the simulator's
reports) from plain values; :mod:`.parse` holds the values, addresses and ids, and reads
what arrives back into :class:`MM4Message`. Callers use this one name: ``mm4.X``.
"""

from __future__ import annotations

from mms_transport.mm4.build import (
    build_forward_request,
    build_report,
    canonical_text,
    part_names,
    smil_document,
    to_bytes,
)
from mms_transport.mm4.parse import (
    DELIVERY_REPORT_REQ,
    DELIVERY_REPORT_RES,
    FORWARD_REQ,
    FORWARD_REQ_HEADERS,
    FORWARD_RES,
    MMS_VERSION,
    READ_REPLY_REPORT_REQ,
    READ_REPLY_REPORT_RES,
    SMIL_CID,
    SMIL_NAME,
    TEXT_NAME,
    ForwardRequest,
    MediaItem,
    MM4Message,
    MM4ParseError,
    MM4Part,
    address_number,
    e164_digits,
    envelope_address,
    normalise_message_id,
    parse_mm4,
    plmn_address,
    referenced_message_id,
)

__all__ = [
    "DELIVERY_REPORT_REQ",
    "DELIVERY_REPORT_RES",
    "FORWARD_REQ",
    "FORWARD_REQ_HEADERS",
    "FORWARD_RES",
    "ForwardRequest",
    "MM4Message",
    "MM4ParseError",
    "MM4Part",
    "MMS_VERSION",
    "MediaItem",
    "READ_REPLY_REPORT_REQ",
    "READ_REPLY_REPORT_RES",
    "SMIL_CID",
    "SMIL_NAME",
    "TEXT_NAME",
    "address_number",
    "build_forward_request",
    "build_report",
    "canonical_text",
    "e164_digits",
    "envelope_address",
    "normalise_message_id",
    "parse_mm4",
    "part_names",
    "plmn_address",
    "referenced_message_id",
    "smil_document",
    "to_bytes",
]
