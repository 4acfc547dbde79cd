"""MM4 messages (3GPP TS 23.140 §8.4): their values, addresses and ids, and parsing.

Pure: no Django, no sockets. The inbound receiver and the simulator parse what arrives
(forward.REQ, forward.RES, delivery_report.REQ) into :class:`MM4Message`; building is in
:mod:`.build`. The package (``mms_transport.mm4``) offers both under one name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.parser import BytesParser
from email.utils import parsedate_to_datetime

MMS_VERSION = "6.10.0"
FORWARD_REQ = "MM4_forward.REQ"
FORWARD_RES = "MM4_forward.RES"
DELIVERY_REPORT_REQ = "MM4_delivery_report.REQ"
DELIVERY_REPORT_RES = "MM4_delivery_report.RES"
READ_REPLY_REPORT_REQ = "MM4_read_reply_report.REQ"
READ_REPLY_REPORT_RES = "MM4_read_reply_report.RES"
SMIL_CID = "<smil>"
SMIL_NAME = "smil.smil"
TEXT_NAME = "text.txt"

#: The headers of an MM4_forward.REQ, in the order they are written.
FORWARD_REQ_HEADERS = (
    "X-Mms-3GPP-MMS-Version",
    "X-Mms-Message-Type",
    "X-Mms-Transaction-ID",
    "X-Mms-Message-ID",
    "X-Mms-Ack-Request",
    "X-Mms-Delivery-Report",
    "X-Mms-Originator-System",
    "Sender",
    "From",
    "To",
    "Date",
    "Message-ID",
    "Subject",
)


class MM4ParseError(ValueError):
    """The bytes are not an MM4 message we can read (no X-Mms-Message-Type, broken MIME)."""


@dataclass(frozen=True)
class MediaItem:
    """One media file of an MMS: its name (becomes Content-Location), MIME type and bytes."""

    name: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class ForwardRequest:
    """Everything an MM4_forward.REQ says; numbers are E.164 with or without the ``+``."""

    sender: str
    recipient: str
    originator_domain: str
    recipient_domain: str
    transaction_id: str
    message_id: str
    date: datetime
    subject: str = ""
    text: str = ""
    media: tuple[MediaItem, ...] = ()
    ack_request: bool = True
    delivery_report: bool = True
    expiry: datetime | None = None


@dataclass(frozen=True)
class MM4Part:
    """One body part as parsed: headers kept verbatim (Content-ID with its brackets)."""

    content_type: str
    content_id: str | None
    content_location: str | None
    data: bytes

    @property
    def text(self) -> str:
        """The part decoded as UTF-8 text (for text/plain and SMIL parts)."""
        return self.data.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class MM4Message:
    """A parsed MM4 message: every header in order, and the parts of a multipart body."""

    headers: tuple[tuple[str, str], ...]
    parts: tuple[MM4Part, ...] = ()
    content_type: str = "text/plain"
    params: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), None)

    @property
    def message_type(self) -> str:
        return self.header("X-Mms-Message-Type") or ""

    @property
    def message_id(self) -> str | None:
        """X-Mms-Message-ID as written (raw; see :func:`referenced_message_id` for reports)."""
        return self.header("X-Mms-Message-ID")

    @property
    def date(self) -> datetime | None:
        raw = self.header("Date")
        try:
            return parsedate_to_datetime(raw) if raw else None
        except (TypeError, ValueError):
            return None

    @property
    def smil(self) -> str | None:
        part = next((p for p in self.parts if p.content_type == "application/smil"), None)
        return part.text if part else None

    @property
    def text(self) -> str:
        """The text/plain part, with ``\\n`` line breaks and without the encoder's final one."""
        part = next((p for p in self.parts if p.content_type == "text/plain"), None)
        if part is None:
            return ""
        text = part.text.replace("\r\n", "\n")
        return text[:-1] if text.endswith("\n") else text

    @property
    def media(self) -> tuple[MM4Part, ...]:
        """Parts other than the SMIL and the text."""
        return tuple(p for p in self.parts if p.content_type not in ("application/smil", "text/plain"))

    def header_block(self) -> str:
        """The headers as text, one per line: what the receipt inbox keeps as ``raw``."""
        return "\n".join(f"{k}: {v}" for k, v in self.headers)


# -- addresses and ids --------------------------------------------------------------------------

_DIGITS = re.compile(r"\+?\d{1,15}")


def e164_digits(number: str) -> str:
    """``+44 7700-900123`` → ``447700900123``; ValueError when it is not a phone number."""
    cleaned = re.sub(r"[\s\-().]", "", number or "")
    if not _DIGITS.fullmatch(cleaned):
        raise ValueError(f"{number!r} is not an E.164 phone number")
    return cleaned.lstrip("+")


def plmn_address(number: str, domain: str) -> str:
    """The header form of a phone address: ``+447700900123/TYPE=PLMN@domain``."""
    return f"+{e164_digits(number)}/TYPE=PLMN@{domain}"


def envelope_address(number: str, domain: str) -> str:
    """The bare SMTP envelope form (seed 001: ``E164-number@hostname``): ``447700900123@domain``."""
    return f"{e164_digits(number)}@{domain}"


def address_number(address: str) -> str | None:
    """``+447700900123/TYPE=PLMN@d``, ``<447700900123@d>`` → ``+447700900123``; None if no number."""
    local = address.strip().strip("<>").rpartition("@")[0] or address.strip().strip("<>")
    local = local.split("/", 1)[0]
    try:
        return "+" + e164_digits(local)
    except ValueError:
        return None


def normalise_message_id(raw: str | None) -> str:
    """The one normalisation of provider ids, for ``250 queued as <id>`` and report headers alike.

    Strips whitespace, quotes and angle brackets and lowercases, so ``<ABC123>`` from the
    SMTP reply and ``"abc123"`` in X-Mms-Message-ID compare equal. ValueError when empty.
    """
    value = (raw or "").strip(" \t\r\n<>\"'").lower()
    if not value or any(c.isspace() for c in value):
        raise ValueError(f"unusable MM4 message id {raw!r}")
    return value


_BRACKETED = re.compile(r"<([^<>]*)>")
#: Where a report may name the original MM, in order, and which id of the header to take.
_REFERENCE_HEADERS = (("X-Mms-Message-ID", 0), ("In-Reply-To", 0), ("References", -1))


def referenced_message_id(message: MM4Message) -> str | None:
    """The id of the original MM a report or response names (raw, for :func:`normalise_message_id`).

    3GPP TS 23.140: X-Mms-Message-ID, the original MM's id (ours; some MMSCs send their queued-as
    id). Liberal: with or without brackets, a trailing comment; without it, In-Reply-To, else
    the last (parent) id of References. The report's own ``Message-ID`` is never read.
    """
    for name, pick in _REFERENCE_HEADERS:
        value = (message.header(name) or "").strip()
        if not value:
            continue
        bracketed = [i.strip() for i in _BRACKETED.findall(value) if i.strip()]
        return bracketed[pick] if bracketed else value.split()[0]
    return None


def parse_mm4(data: bytes) -> MM4Message:
    """Parse an MM4 message; MM4ParseError when it has no X-Mms-Message-Type or is not MIME."""
    try:
        msg = BytesParser(policy=policy.default).parsebytes(data)
        headers = tuple((k, str(v)) for k, v in msg.items())
    except Exception as exc:  # the email package raises many types on hostile input
        raise MM4ParseError(f"unreadable message: {exc}") from exc
    if not any(k.lower() == "x-mms-message-type" for k, _ in headers):
        raise MM4ParseError("no X-Mms-Message-Type header: not an MM4 message")
    parts: list[MM4Part] = []
    try:
        if msg.is_multipart():
            for sub in msg.iter_parts():
                parts.append(
                    MM4Part(
                        content_type=sub.get_content_type(),
                        content_id=sub.get("Content-ID"),
                        content_location=sub.get("Content-Location"),
                        data=sub.get_payload(decode=True) or b"",
                    )
                )
        params = {k.lower(): str(v) for k, v in msg["Content-Type"].params.items()} if msg["Content-Type"] else {}
    except Exception as exc:
        raise MM4ParseError(f"broken MIME body: {exc}") from exc
    return MM4Message(headers=headers, parts=tuple(parts), content_type=msg.get_content_type(), params=params)
