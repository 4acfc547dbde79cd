"""MM4 messages (3GPP TS 23.140 §8.4) built with the standard library's email package.

Pure: no Django, no sockets. The sender builds an MM4_forward.REQ from plain values; the
inbound receiver and the simulator parse what arrives (forward.REQ, forward.RES,
delivery_report.REQ) back into :class:`MM4Message`.

Why these choices:

- ``policy.SMTP`` gives CRLF line ends (SMTP's DATA needs them) and RFC 2047 headers; every
  body part gets an explicit transfer encoding (quoted-printable text, base64 media, 7bit
  SMIL), because with ``policy.SMTP`` non-ASCII text would otherwise go out as ``8bit``,
  which an MMSC without 8BITMIME may mangle.
- The MIME boundary derives from the transaction id, so a message is a pure function of its
  inputs (golden tests compare bytes).
- Part names (Content-Location) are reduced to safe ASCII and made unique: they are what the
  SMIL refers to, and a handset resolves ``src`` against them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from xml.sax.saxutils import quoteattr

from mms_transport.mm4.parse import (
    FORWARD_REQ,
    FORWARD_REQ_HEADERS,
    MMS_VERSION,
    SMIL_CID,
    SMIL_NAME,
    TEXT_NAME,
    ForwardRequest,
    MediaItem,
    plmn_address,
)

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "audio/amr": ".amr",
    "audio/mpeg": ".mp3",
    "video/mp4": ".mp4",
    "video/3gpp": ".3gp",
    "text/plain": ".txt",
}
_SMIL_TAG = {"image": "img", "audio": "audio", "video": "video", "text": "text"}


def part_names(media: Sequence[MediaItem]) -> list[str]:
    """Safe, unique ASCII names for the media parts (never ``smil.smil`` or ``text.txt``)."""
    taken = {SMIL_NAME, TEXT_NAME}
    names = []
    for index, item in enumerate(media, start=1):
        ascii_name = unicodedata.normalize("NFKD", item.name).encode("ascii", "ignore").decode("ascii")
        base = _UNSAFE.sub("_", ascii_name.replace("\\", "/").rsplit("/", 1)[-1]).strip("._") or f"media{index}"
        if "." not in base:
            base += _EXTENSIONS.get(item.content_type, "")
        stem, dot, ext = base.rpartition(".")
        stem, ext = (stem, dot + ext) if dot else (base, "")
        name, n = f"{stem[:60]}{ext}", 1
        while name.lower() in taken:
            n += 1
            name = f"{stem[:60]}_{n}{ext}"
        taken.add(name.lower())
        names.append(name)
    return names


def smil_document(media: Sequence[tuple[str, str]], text_name: str | None) -> str:
    """A SMIL presentation: a slide per picture (image or video) with its sound, text on the first.

    ``media`` is (name, content type) pairs; ``src`` refers to the parts' Content-Location.
    """
    lines = [
        "<smil>",
        "<head>",
        "<layout>",
        '<root-layout width="320" height="480"/>',
        '<region id="Image" left="0" top="0" width="320" height="320" fit="meet"/>',
        '<region id="Text" left="0" top="320" width="320" height="160" fit="scroll"/>',
        "</layout>",
        "</head>",
        "<body>",
    ]
    slides: list[list[tuple[str, str]]] = [[]]
    for name, content_type in media:
        # A slide shows one picture (image or video) and plays one sound; a taken slot starts the next.
        slot = _slot(content_type)
        if any(_slot(other) == slot for _, other in slides[-1]):
            slides.append([])
        slides[-1].append((name, content_type))
    if text_name:
        slides[0].append((text_name, "text/plain"))
    for slide in slides:
        lines.append('<par dur="5000ms">')
        for name, content_type in slide:
            tag = _SMIL_TAG.get(content_type.split("/", 1)[0], "ref")
            region = {"img": ' region="Image"', "video": ' region="Image"', "text": ' region="Text"'}.get(tag, "")
            lines.append(f"<{tag} src={quoteattr(name)}{region}/>")
        lines.append("</par>")
    lines += ["</body>", "</smil>"]
    return "\r\n".join(lines) + "\r\n"


def _slot(content_type: str) -> str:
    return "sound" if content_type.startswith("audio/") else "picture"


def _clean_header(value: str) -> str:
    return " ".join(value.replace("\r", " ").replace("\n", " ").split(" ")).strip()


def canonical_text(text: str) -> str:
    """The text as it survives the wire: ``\\n`` line breaks, no trailing line break."""
    return text.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")


def build_forward_request(req: ForwardRequest) -> EmailMessage:
    """An MM4_forward.REQ: the X-Mms-* headers, then multipart/related (SMIL, media, text)."""
    msg = EmailMessage(policy=policy.SMTP)
    sender = plmn_address(req.sender, req.originator_domain)
    values = {
        "X-Mms-3GPP-MMS-Version": MMS_VERSION,
        "X-Mms-Message-Type": FORWARD_REQ,
        "X-Mms-Transaction-ID": req.transaction_id,
        "X-Mms-Message-ID": f"<{req.message_id}>",
        "X-Mms-Ack-Request": "Yes" if req.ack_request else "No",
        "X-Mms-Delivery-Report": "Yes" if req.delivery_report else "No",
        "X-Mms-Originator-System": f"system-user@{req.originator_domain}",
        "Sender": sender,
        "From": sender,
        "To": plmn_address(req.recipient, req.recipient_domain),
        "Date": format_datetime(req.date),
        "Message-ID": f"<{req.message_id}>",
        "Subject": _clean_header(req.subject),
    }
    for name in FORWARD_REQ_HEADERS:
        msg[name] = values[name]
    if req.expiry is not None:
        msg["X-Mms-Expiry"] = format_datetime(req.expiry)
    msg["MIME-Version"] = "1.0"
    msg["Content-Type"] = "multipart/related"
    msg.set_param("type", "application/smil")
    msg.set_param("start", SMIL_CID)
    msg.set_boundary(f"=_mm4_{_UNSAFE.sub('_', req.transaction_id)[:50]}")

    names = part_names(req.media)
    text = canonical_text(req.text)
    smil = EmailMessage(policy=policy.SMTP)
    smil_text = smil_document(
        [(n, m.content_type) for n, m in zip(names, req.media, strict=True)], TEXT_NAME if text else None
    )
    smil.set_content(smil_text.encode("ascii"), "application", "smil", cte="7bit", cid=SMIL_CID)
    parts = [(smil, SMIL_NAME)]
    for name, item in zip(names, req.media, strict=True):
        maintype, _, subtype = item.content_type.partition("/")
        part = EmailMessage(policy=policy.SMTP)
        part.set_content(item.data, maintype, subtype, cte="base64", cid=f"<{name}>", params={"name": name})
        parts.append((part, name))
    if text:
        part = EmailMessage(policy=policy.SMTP)
        part.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable", cid=f"<{TEXT_NAME}>")
        parts.append((part, TEXT_NAME))
    for part, location in parts:
        part["Content-Location"] = location
        msg.attach(_ordered(part))
    return msg


_PART_HEADERS = ("Content-Type", "Content-Transfer-Encoding", "Content-ID", "Content-Location")


def _ordered(part: EmailMessage) -> EmailMessage:
    """A body part with exactly the four MIME headers, always in the same order."""
    values = {name: str(part[name]) for name in _PART_HEADERS}
    for name in {k for k, _ in part.items()}:
        del part[name]
    for name in _PART_HEADERS:
        part[name] = values[name]
    return part


def to_bytes(msg: EmailMessage) -> bytes:
    """The message as SMTP DATA needs it: CRLF line ends (dot-stuffing is the client's job)."""
    return msg.as_bytes(policy=policy.SMTP)


def build_report(
    *,
    message_type: str,
    transaction_id: str,
    message_id: str,
    sender: str,
    recipient: str,
    originator_domain: str,
    recipient_domain: str,
    date: datetime,
    status_header: str,
    status: str,
    status_text: str = "",
) -> EmailMessage:
    """An MM4_delivery_report.REQ or MM4_forward.RES about the message ``message_id`` (the id
    it refers to, without angle brackets: the original's X-Mms-Message-ID, or a queued-as id).

    ``sender`` is the original recipient (whose handset reports), ``recipient`` the original
    sender; ``status_header`` is X-Mms-MM-Status-Code or X-Mms-Request-Status-Code.
    """
    msg = EmailMessage(policy=policy.SMTP)
    msg["X-Mms-3GPP-MMS-Version"] = MMS_VERSION
    msg["X-Mms-Message-Type"] = message_type
    msg["X-Mms-Transaction-ID"] = transaction_id
    msg["X-Mms-Message-ID"] = f"<{message_id}>"
    msg[status_header] = status
    if status_text:
        msg["X-Mms-Status-Text"] = _clean_header(status_text)
    msg["X-Mms-Ack-Request"] = "No"
    msg["Sender"] = plmn_address(sender, recipient_domain)
    msg["From"] = plmn_address(sender, recipient_domain)
    msg["To"] = plmn_address(recipient, originator_domain)
    msg["Date"] = format_datetime(date)
    # Its own RFC 5322 id, one per message; the MM it is about is named in X-Mms-Message-ID.
    kind = message_type.removeprefix("MM4_").lower().replace("_", "-").replace(".", "-")
    msg["Message-ID"] = f"<{transaction_id}.{kind}@{recipient_domain}>"
    msg["MIME-Version"] = "1.0"
    msg.set_content(f"{message_type} {status}\r\n", charset="us-ascii", cte="7bit")
    return msg


# -- parsing ----------------------------------------------------------------------------------
