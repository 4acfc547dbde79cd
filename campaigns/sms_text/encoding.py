"""SMS text encoding, segment counting and splitting (pure: no Django, no sockets).

One module decides how a text goes on the wire so that the UI preview, the billing count and
the bind worker can never disagree: ``analyse`` counts with exactly the packing that
``split_message`` uses.

Rules we follow, and why:

- GSM 03.38 when every character fits (cheaper: 160 per SMS), else UCS-2 for the whole
  message: a message has one data_coding, mixing is not possible.
- GSM goes out as UNPACKED septets (one per octet) with data_coding 0; the SMSC packs them.
- UCS-2 is really UTF-16BE: handsets render surrogate pairs, so emoji cost two units.
- A character is atomic: an escape sequence (ESC + code) or a surrogate pair is never split
  across parts, or the handset would show garbage at the seam. A part may then hold one unit
  less than the nominal 153 / 67.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final, Literal

from campaigns.sms_text.gsm_alphabet import CHAR_TO_SEPTETS, decode_gsm

__all__ = [
    "CONCAT_MODES",
    "EncodingError",
    "Segment",
    "TextAnalysis",
    "analyse",
    "decode",
    "split_message",
]

Encoding = Literal["GSM-7", "UCS-2"]
GSM7: Final = "GSM-7"
UCS2: Final = "UCS-2"
DATA_CODING_GSM: Final = 0x00
DATA_CODING_UCS2: Final = 0x08
ESM_CLASS_UDHI: Final = 0x40
"""esm_class bit telling the SMSC that short_message starts with a User Data Header."""

CONCAT_MODES: Final[tuple[str, ...]] = ("udh8", "udh16", "sar", "payload")

MAX_PARTS: Final = 255
"""The concatenation "total" field is one octet in every scheme."""

_SINGLE_CAPACITY: Final = {GSM7: 160, UCS2: 70}
# Units left per part once the UDH is paid for. A 6-octet UDH (udh8) costs 7 septets
# (48 bits rounded up to septets) or 6 octets = 3 UTF-16 units; the 7-octet udh16 header
# costs 8 septets or 4 units (133 octets left, 66 whole units). SAR and payload carry no UDH
# from us, but the SMSC adds an 8-bit-reference UDH when it delivers to the handset, so
# they are split (or billed) like udh8.
_PART_CAPACITY: Final = {
    "udh8": {GSM7: 153, UCS2: 67},
    "udh16": {GSM7: 152, UCS2: 66},
    "sar": {GSM7: 153, UCS2: 67},
    "payload": {GSM7: 153, UCS2: 67},
}
_UNIT_BYTES: Final = {GSM7: 1, UCS2: 2}
_DATA_CODING: Final = {GSM7: DATA_CODING_GSM, UCS2: DATA_CODING_UCS2}


class EncodingError(ValueError):
    """The text (or inbound payload) cannot be represented as asked."""


@dataclass(frozen=True)
class TextAnalysis:
    """What a text will cost, for previews and billing.

    ``units`` are septets for GSM-7 (extension characters count two) and UTF-16 code units
    for UCS-2. ``per_segment`` is the capacity of one part: the single-SMS limit when the
    text fits in one, the concatenated limit otherwise. ``ucs2_chars`` lists, in order of
    first appearance, the distinct characters that forced UCS-2, so the UI can suggest
    replacing them (a stray backtick or curly quote doubles the price).
    """

    encoding: Encoding
    data_coding: int
    units: int
    segments: int
    per_segment: int
    ucs2_chars: tuple[str, ...] = ()


@dataclass(frozen=True)
class Segment:
    """One submit_sm worth of a message.

    ``short_message`` already holds the UDH when ``esm_class`` has 0x40 set.
    ``optional_params`` uses smpplib's TLV names so it can be splatted into
    ``client.send_message(**optional_params)``. ``billable_segments`` is how many SMS this
    wire segment is billed as: always 1, except in payload mode where one submit_sm carries
    the whole text; summed over the segments it equals ``analyse(text).segments``.
    """

    short_message: bytes
    data_coding: int
    esm_class: int
    index: int
    total: int
    optional_params: dict[str, int | bytes] = field(default_factory=dict)
    billable_segments: int = 1


def _check_concat(concat: str) -> None:
    if concat not in _PART_CAPACITY:
        raise EncodingError(f"unknown concat mode {concat!r}; expected one of {CONCAT_MODES}")


@lru_cache(maxsize=1024)
def _encode_atoms(text: str) -> tuple[Encoding, tuple[bytes, ...], tuple[str, ...]]:
    """Encode ``text`` character by character.

    Returns the chosen encoding, one byte string per character (the unit we never split)
    and the distinct characters that forced UCS-2. Cached: a campaign sends the same text
    (or a few personalised ones) thousands of times a second.
    """
    for position, char in enumerate(text):
        if "\ud800" <= char <= "\udfff":
            raise EncodingError(f"lone surrogate U+{ord(char):04X} at position {position}: not valid text")
    forcing = tuple(dict.fromkeys(char for char in text if char not in CHAR_TO_SEPTETS))
    if not forcing:
        return GSM7, tuple(CHAR_TO_SEPTETS[char] for char in text), ()
    return UCS2, tuple(char.encode("utf-16-be") for char in text), forcing


def _pack(atoms: tuple[bytes, ...], capacity_bytes: int) -> list[bytes]:
    """Greedily fill parts of ``capacity_bytes`` without ever splitting an atom.

    Greedy is optimal here: order is fixed and every atom is at most 4 bytes, so no other
    cut can produce fewer parts.
    """
    parts: list[bytes] = []
    current = bytearray()
    for atom in atoms:
        if len(current) + len(atom) > capacity_bytes:
            parts.append(bytes(current))
            current = bytearray()
        current += atom
    if current or not parts:
        parts.append(bytes(current))
    return parts


def _layout(text: str, concat: str) -> tuple[str, bytes, list[bytes] | None]:
    """Encode and, when the text does not fit one SMS, cut it into part payloads."""
    _check_concat(concat)
    encoding, atoms, _ = _encode_atoms(text)
    payload = b"".join(atoms)
    if len(payload) <= _SINGLE_CAPACITY[encoding] * _UNIT_BYTES[encoding]:
        return encoding, payload, None
    capacity = _PART_CAPACITY[concat][encoding] * _UNIT_BYTES[encoding]
    return encoding, payload, _pack(atoms, capacity)


def analyse(text: str, *, concat: str = "udh8") -> TextAnalysis:
    """Say how ``text`` will be encoded and how many SMS it costs.

    ``concat`` matters only for udh16, whose bigger header leaves one unit less per part.
    Never raises for length (a preview must show a 300-part text as 300 parts); raises
    ``EncodingError`` for a lone surrogate or an unknown concat mode.
    """
    _check_concat(concat)
    encoding, atoms, forcing = _encode_atoms(text)
    units = sum(len(atom) for atom in atoms) // _UNIT_BYTES[encoding]
    if units <= _SINGLE_CAPACITY[encoding]:
        segments, per_segment = 1, _SINGLE_CAPACITY[encoding]
    else:
        per_segment = _PART_CAPACITY[concat][encoding]
        segments = len(_pack(atoms, per_segment * _UNIT_BYTES[encoding]))
    return TextAnalysis(
        encoding=encoding,
        data_coding=_DATA_CODING[encoding],
        units=units,
        segments=segments,
        per_segment=per_segment,
        ucs2_chars=forcing,
    )


def split_message(text: str, *, concat: str = "udh8", ref: int = 0) -> list[Segment]:
    """Cut ``text`` into ready-to-submit segments.

    ``ref`` identifies the concatenated message on the handset, which reassembles by
    (sender, ref): pass something that varies per message (e.g. the message id), not a
    constant. It is reduced modulo 256 for udh8 and 65536 for udh16 and sar.

    A text that fits one SMS is sent without UDH or SAR TLVs. Payload mode always uses the
    message_payload TLV (short_message empty): the account chose it because its SMSC
    wants it. An empty text is one empty SMS. Raises ``EncodingError`` above 255 parts.
    """
    encoding, payload, chunks = _layout(text, concat)
    data_coding = _DATA_CODING[encoding]
    if concat == "payload":
        billed = 1 if chunks is None else len(chunks)
        _check_part_count(billed)
        return [
            Segment(
                short_message=b"",
                data_coding=data_coding,
                esm_class=0,
                index=1,
                total=1,
                optional_params={"message_payload": payload},
                billable_segments=billed,
            )
        ]
    if chunks is None:
        return [Segment(payload, data_coding, 0, 1, 1)]
    total = len(chunks)
    _check_part_count(total)
    segments = []
    for index, chunk in enumerate(chunks, start=1):
        if concat == "udh8":
            udh = bytes([0x05, 0x00, 0x03, ref % 256, total, index])
            segments.append(Segment(udh + chunk, data_coding, ESM_CLASS_UDHI, index, total))
        elif concat == "udh16":
            ref16 = ref % 65536
            udh = bytes([0x06, 0x08, 0x04, ref16 >> 8, ref16 & 0xFF, total, index])
            segments.append(Segment(udh + chunk, data_coding, ESM_CLASS_UDHI, index, total))
        else:  # sar
            tlvs: dict[str, int | bytes] = {
                "sar_msg_ref_num": ref % 65536,
                "sar_total_segments": total,
                "sar_segment_seqnum": index,
            }
            segments.append(Segment(chunk, data_coding, 0, index, total, tlvs))
    return segments


def _check_part_count(total: int) -> None:
    if total > MAX_PARTS:
        raise EncodingError(f"message needs {total} parts; concatenation allows at most {MAX_PARTS}")


# data_coding values SMPP 3.4 (5.2.19) defines with a plain character set.
_CODECS: Final = {
    0x01: "ascii",  # IA5
    0x02: "latin-1",  # octet unspecified: show the bytes rather than fail
    0x03: "latin-1",
    0x04: "latin-1",
    0x06: "iso8859-5",  # Cyrillic
    0x07: "iso8859-8",  # Latin/Hebrew
    0x0A: "iso2022_jp",
}


def _alphabet(data_coding: int) -> str:
    """Map a data_coding to "gsm", "ucs2" or a Python codec name.

    Values 0x10-0x7F and 0xC0-0xFF follow the GSM 03.38 data coding scheme (some SMSCs pass
    the handset's DCS through, e.g. 0x18 for a UCS-2 flash SMS); everything unknown falls
    back to latin-1 so an inbound message is never lost.
    """
    if data_coding == 0x00:
        return "gsm"
    if data_coding == 0x08:
        return "ucs2"
    if data_coding in _CODECS:
        return _CODECS[data_coding]
    if 0x10 <= data_coding <= 0x7F and not data_coding & 0x20:  # general, uncompressed
        return ("gsm", "latin-1", "ucs2", "latin-1")[(data_coding >> 2) & 0x03]
    if 0xC0 <= data_coding <= 0xDF:  # message waiting, GSM 7-bit
        return "gsm"
    if 0xE0 <= data_coding <= 0xEF:  # message waiting, UCS-2
        return "ucs2"
    if data_coding >= 0xF0:  # message class: bit 2 selects 8-bit data
        return "latin-1" if data_coding & 0x04 else "gsm"
    return "latin-1"


def strip_udh(data: bytes) -> bytes:
    """Drop the User Data Header (UDHL octet + UDHL octets) from ``data``."""
    if not data:
        raise EncodingError("UDHI set but the message is empty")
    header_length = data[0] + 1
    if header_length > len(data):
        raise EncodingError(f"UDH length {data[0]} exceeds the {len(data) - 1} octets that follow it")
    return data[header_length:]


def decode(data: bytes, data_coding: int, *, has_udh: bool = False) -> str:
    """Decode an inbound short_message (or message_payload) to text.

    Inbound traffic is decoded tolerantly: undecodable bytes become U+FFFD instead of
    raising, because the message is stored either way. The one error raised is a UDH whose
    length does not fit the data, since then we cannot tell header from text.
    ``has_udh`` should be ``bool(esm_class & 0x40)`` of the deliver_sm.
    """
    if has_udh:
        data = strip_udh(data)
    alphabet = _alphabet(data_coding)
    if alphabet == "gsm":
        return decode_gsm(data)
    if alphabet == "ucs2":
        return data.decode("utf-16-be", errors="replace")
    return data.decode(alphabet, errors="replace")
