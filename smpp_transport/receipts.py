"""Delivery receipt parsing and provider message-id normalisation (pure: no Django, no I/O).

Receipts are the least standard part of SMPP: the text format is only an appendix of the
3.4 spec, SMSCs change case, drop or add fields and reorder them, and the TLVs that should
make the text unnecessary are sometimes missing or (through smpplib) truncated. This module
turns all of that into one ``ParsedReceipt`` and owns the one rule for turning a provider
id into the key we match on, used for submit_sm_resp ids and receipt ids alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

__all__ = [
    "ID_FORMATS",
    "MESSAGE_STATE_STATS",
    "STAT_TO_STATUS",
    "ParsedReceipt",
    "ReceiptError",
    "normalise_message_id",
    "parse_receipt",
    "parse_receipt_date",
]

ESM_CLASS_TYPE_MASK: Final = 0x3C
ESM_CLASS_SMSC_RECEIPT: Final = 0x04
ESM_CLASS_INTERMEDIATE_NOTIFICATION: Final = 0x20
_RECEIPT_TYPES: Final = frozenset({ESM_CLASS_SMSC_RECEIPT, ESM_CLASS_INTERMEDIATE_NOTIFICATION})

STAT_TO_STATUS: Final[Mapping[str, str]] = {
    "DELIVRD": "delivered",
    "EXPIRED": "expired",
    "DELETED": "undelivered",
    "UNDELIV": "undelivered",
    "ACCEPTD": "accepted",
    "UNKNOWN": "unknown",
    "REJECTD": "rejected",
    "ENROUTE": "accepted",
}
"""Receipt ``stat:`` value → part status (the domain's exact values)."""

_STAT_ALIASES: Final[Mapping[str, str]] = {
    "DELIVERED": "delivered",
    "UNDELIVERABLE": "undelivered",
    "ACCEPTED": "accepted",
    "REJECTED": "rejected",
}
"""Long spellings a few SMSCs use instead of the 7-letter words; ``stat`` keeps them raw."""

MESSAGE_STATE_STATS: Final[Mapping[int, str]] = {
    1: "ENROUTE",
    2: "DELIVRD",
    3: "EXPIRED",
    4: "DELETED",
    5: "UNDELIV",
    6: "ACCEPTD",
    7: "UNKNOWN",
    8: "REJECTD",
}
"""SMPP 3.4 message_state TLV value → the equivalent receipt ``stat:`` word."""

ID_FORMATS: Final[tuple[str, ...]] = ("auto", "hex", "decimal")

_HEX_ID_MAX_DIGITS: Final = 8
"""A 32-bit id written in hex has at most 8 digits; a longer all-digit receipt id on a
"hex" account is the decimal form (SMPP 3.4 Appendix B gives the receipt id 10 chars)."""


class ReceiptError(ValueError):
    """A receipt or a message id that cannot be used for matching."""


@dataclass(frozen=True)
class ParsedReceipt:
    """A delivery receipt reduced to what the domain needs.

    ``message_id`` is raw (only NULs and surrounding blanks removed); normalise it with
    ``normalise_message_id`` and the account's id format before matching. ``stat`` is the
    upper-case word as received (or derived from message_state), kept even when we do not
    recognise it; ``status`` is the part status it maps to. Dates are naive SMSC clock
    readings interpreted as UTC, since receipts carry no zone.

    In a receipt the addresses are reversed: ``source_addr`` is the handset the original
    message went to and ``destination_addr`` the sender we used.
    """

    message_id: str
    stat: str
    status: str
    err: str = ""
    submit_date: datetime | None = None
    done_date: datetime | None = None
    text: str = ""
    source_addr: str | None = None
    destination_addr: str | None = None


# A field name starts at the beginning or after whitespace; "submit date" / "done date"
# contain a space (some SMSCs write an underscore or nothing instead).
_FIELD_RE: Final = re.compile(r"(?:(?<=\s)|^)(submit[ _]?date|done[ _]?date|[a-z][a-z0-9_]*)\s*:", re.IGNORECASE)
_RECEIPT_EVIDENCE: Final = frozenset({"sub", "dlvrd", "submitdate", "donedate", "err"})


def _as_text(value: Any) -> str:
    """TLV and short_message values arrive as bytes or str; give str without NULs."""
    if isinstance(value, bytes | bytearray):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            value = bytes(value).decode("latin-1")
    return str(value).replace("\x00", "").strip()


def _receipt_fields(text: str) -> dict[str, str]:
    """Split receipt text into lower-case field → value.

    Everything after the first ``text:`` belongs to the text field, whatever it contains:
    it is a copy of the subscriber-facing message, so a "stat:" inside it must never be
    read as the status. Fields before it may come in any order; unknown ones are kept
    (and ignored by the caller); the first occurrence of a name wins.
    """
    fields: dict[str, str] = {}
    matches = list(_FIELD_RE.finditer(text))
    for number, match in enumerate(matches):
        name = re.sub(r"[ _]", "", match.group(1).lower())
        if name == "text":
            fields.setdefault("text", text[match.end() :])
            break
        end = matches[number + 1].start() if number + 1 < len(matches) else len(text)
        fields.setdefault(name, text[match.end() : end].strip())
    return fields


def parse_receipt_date(value: str | None) -> datetime | None:
    """Parse YYMMDDhhmm, YYMMDDhhmmss (or YYYYMMDDhhmmss) as UTC; None when unusable.

    A bad date never rejects a receipt: the status matters, the date is informational.
    """
    if not value:
        return None
    digits = value.strip()
    if not (digits.isascii() and digits.isdigit()) or len(digits) not in (10, 12, 14):
        return None
    if len(digits) < 14:
        # Two-digit years are 20YY: strptime's %y would turn "69" into 1969.
        digits = "20" + digits
    fmt = "%Y%m%d%H%M%S" if len(digits) == 14 else "%Y%m%d%H%M"
    try:
        return datetime.strptime(digits, fmt).replace(tzinfo=UTC)
    except ValueError:
        return None


def _message_state(value: Any) -> int | None:
    """message_state is an int from smpplib, but raw bytes or a digit string are accepted."""
    if value is None:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, bytes | bytearray):
        return int.from_bytes(value, "big") if value else None
    text = str(value).strip()
    return int(text) if text.isdigit() else None


def _looks_like_receipt(fields: Mapping[str, str]) -> bool:
    """Receipt text sent with a plain esm_class (some SMSCs do): id and stat fields plus at
    least one other receipt field, so an MO that happens to say "id: 5, stat: ok" stays MO.
    """
    return bool(fields.get("id")) and "stat" in fields and bool(_RECEIPT_EVIDENCE & fields.keys())


def _choose_id(tlv_id: str, text_id: str) -> str:
    """Pick the receipt's message id from the TLV and the text.

    The TLV is authoritative, with one exception: smpplib 2.2.4 parses C-string TLVs by
    dropping the last byte of the declared length, assuming it is the NUL. An SMSC that sends
    receipted_message_id without its NUL therefore reaches us one character short. When the
    TLV is exactly the text id minus its last character (case-insensitively), the text is the
    intact copy and wins. Any other disagreement keeps the TLV: the text id may legitimately
    be in another base.
    """
    if not tlv_id:
        return text_id
    if text_id and len(text_id) == len(tlv_id) + 1 and text_id.lower().startswith(tlv_id.lower()):
        return text_id
    return tlv_id


def parse_receipt(
    *,
    short_message: bytes | str | None,
    esm_class: int,
    optional_params: Mapping[str, Any] | None = None,
    source_addr: str | bytes | None = None,
    destination_addr: str | bytes | None = None,
) -> ParsedReceipt | None:
    """Parse a deliver_sm (or data_sm) as a delivery receipt.

    Returns None when it is not a receipt, i.e. an MO message: esm_class is not an SMSC
    receipt / intermediate notification, the text does not look like a receipt (id and stat
    plus one more receipt field), and receipted_message_id and message_state are not both
    present. The TLVs (receipted_message_id,
    message_state) take precedence over the text, which fills what they lack. Raises
    ``ReceiptError`` for a receipt with no message id at all: it can never be matched, and
    the caller should log it (and still ack it, or the SMSC redelivers it forever).
    """
    params = optional_params or {}
    body = short_message if short_message else params.get("message_payload")
    text = _as_text(body) if body else ""
    tlv_id = _as_text(params.get("receipted_message_id") or "")
    state = _message_state(params.get("message_state"))

    fields = _receipt_fields(text)
    is_receipt = (
        (esm_class & ESM_CLASS_TYPE_MASK) in _RECEIPT_TYPES
        or _looks_like_receipt(fields)
        or bool(tlv_id and state is not None)
    )
    if not is_receipt:
        return None

    message_id = _choose_id(tlv_id, fields.get("id", "").split(" ")[0])
    if not message_id:
        # Not the text itself: it ends in the first characters of the message (``text:``),
        # and this message is logged. The receipt row keeps the raw text.
        stat = fields.get("stat", "")[:16]
        raise ReceiptError(f"delivery receipt without a message id (stat {stat!r}, {len(text)} characters)")

    if state is not None and state in MESSAGE_STATE_STATS:
        stat = MESSAGE_STATE_STATS[state]
    elif fields.get("stat"):
        stat = fields["stat"].split(" ")[0].upper()
    elif state is not None:
        stat = f"STATE_{state}"
    else:
        stat = ""

    return ParsedReceipt(
        message_id=message_id,
        stat=stat,
        status=STAT_TO_STATUS.get(stat) or _STAT_ALIASES.get(stat, "unknown"),
        err=fields.get("err", "").split(" ")[0],
        submit_date=parse_receipt_date(fields.get("submitdate")),
        done_date=parse_receipt_date(fields.get("donedate")),
        text=fields.get("text", ""),
        source_addr=_as_text(source_addr) if source_addr is not None else None,
        destination_addr=_as_text(destination_addr) if destination_addr is not None else None,
    )


def normalise_message_id(
    raw: str | bytes,
    id_format: str = "auto",
    *,
    source: Literal["resp", "receipt"] = "resp",
) -> str:
    """Turn a provider message id into the key both submit_sm_resp and receipts match on.

    Call it with the account's ``id_format`` on BOTH paths (``source="resp"`` for the
    submit_sm_resp id, ``source="receipt"`` for the receipt id), so the two keys agree.
    NULs and surrounding whitespace are always removed first.

    - ``"auto"``: lower-case and strip leading zeros (at least one character stays). No
      base conversion: we cannot guess a base, and converting would break ids that merely
      look numeric.
    - ``"decimal"``: the id must be decimal digits; returns ``str(int(id))``.
    - ``"hex"``: the id must be hex digits; returns lower-case hex without leading zeros
      ("0" for zero). For the classic Kannel case (hex in submit_sm_resp, decimal in the
      receipt) one extra rule applies when ``source="receipt"``: an id made only of decimal
      digits and longer than 8 characters (the most a 32-bit id takes in hex; SMPP 3.4
      Appendix B gives the receipt id 10 characters) is read as decimal and converted to
      hex. Shorter all-digit receipt ids are read as hex.

    Caveat of the hex rule: an SMSC that uses hex ids longer than 8 digits in receipts too
    will, for the ids that happen to contain no a-f, be converted wrongly. Such an account
    should use "auto" (both sides then keep the id as sent).

    Raises ``ReceiptError`` for an empty id, an id invalid in the given base, or an
    unknown format.
    """
    value = _as_text(raw)
    if not value:
        raise ReceiptError("empty message id")
    if id_format == "auto":
        return value.lower().lstrip("0") or "0"
    if id_format == "decimal":
        if not (value.isascii() and value.isdigit()):
            raise ReceiptError(f"message id {value!r} is not decimal")
        return str(int(value, 10))
    if id_format == "hex":
        if source == "receipt" and value.isascii() and value.isdigit() and len(value) > _HEX_ID_MAX_DIGITS:
            return format(int(value, 10), "x")
        if not re.fullmatch(r"[0-9a-fA-F]+", value):
            raise ReceiptError(f"message id {value!r} is not hexadecimal")
        return format(int(value, 16), "x")
    raise ReceiptError(f"unknown id format {id_format!r}; expected one of {ID_FORMATS}")
