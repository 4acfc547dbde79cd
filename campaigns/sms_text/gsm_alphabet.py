"""GSM 03.38 (3GPP TS 23.038) default alphabet and its extension table.

We keep our own tables instead of using ``smpplib.gsm``: that module maps the backtick to a
septet (it is not in GSM 03.38, so a message containing one must go out as UCS-2) and splits
escape sequences across parts. Everything here works on UNPACKED septets, one septet per
octet, which is how SMPP carries ``data_coding=0`` in practice; packing to 7 bits is the
SMSC's job.
"""

from __future__ import annotations

ESC = 0x1B
"""Escape to the extension table: an extension character costs two septets (ESC + code)."""

# Index = septet value. 0x1B is the escape code, never a character of its own.
BASIC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
assert len(BASIC_TABLE) == 128

EXTENSION_TABLE: dict[str, int] = {
    "\f": 0x0A,
    "^": 0x14,
    "{": 0x28,
    "}": 0x29,
    "\\": 0x2F,
    "[": 0x3C,
    "~": 0x3D,
    "]": 0x3E,
    "|": 0x40,
    "€": 0x65,
}

CHAR_TO_SEPTETS: dict[str, bytes] = {char: bytes([code]) for code, char in enumerate(BASIC_TABLE) if code != ESC}
CHAR_TO_SEPTETS.update({char: bytes([ESC, code]) for char, code in EXTENSION_TABLE.items()})

_EXTENSION_DECODE: dict[int, str] = {code: char for char, code in EXTENSION_TABLE.items()}


def decode_gsm(data: bytes) -> str:
    """Decode unpacked septets, tolerant of what real handsets and SMSCs send.

    - ESC + a code missing from the extension table shows the basic-table character, and
      ESC + ESC shows a space, as 3GPP TS 23.038 tells receivers to do.
    - A lone ESC at the very end is dropped: it is almost always the first half of an escape
      another sender split across parts, and a space there would be a spurious character.
    - Octets above 0x7F are not septets; they decode to U+FFFD instead of failing, because
      inbound traffic must never crash the receiver.
    """
    out: list[str] = []
    i = 0
    length = len(data)
    while i < length:
        code = data[i]
        i += 1
        if code > 0x7F:
            out.append("\ufffd")
        elif code != ESC:
            out.append(BASIC_TABLE[code])
        elif i < length:
            nxt = data[i]
            i += 1
            if nxt in _EXTENSION_DECODE:
                out.append(_EXTENSION_DECODE[nxt])
            elif nxt == ESC:
                out.append(" ")
            elif nxt > 0x7F:
                out.append("\ufffd")
            else:
                out.append(BASIC_TABLE[nxt])
    return "".join(out)
