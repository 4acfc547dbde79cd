"""Translate between the domain's transport API and MM4 value types.

Pure functions (no ORM, no sockets): a part to send gets its id and becomes an envelope
and an MM4_forward.REQ, a session's answer becomes a submit outcome, an inbound MM4 report
becomes a receipt for the inbox. Ids are normalised here, with one function
(:func:`mms_transport.mm4.normalise_message_id`), on submit and on receipt alike.

Every MMS part has two ids: ours (the X-Mms-Message-ID of our MM4_forward.REQ, made by
:func:`local_message_id` before the part goes on the wire) and the provider's (``250 queued
as <id>``). A report names one of them (3GPP TS 23.140: ours); the domain matches either.

Status mapping (3GPP TS 23.140 X-Mms-MM-Status-Code → part status):

=============  ===========  ==========================================================
Retrieved      delivered    the handset fetched the message
Rejected       rejected     the recipient or its MMSC refused it
Deferred       accepted     the recipient postponed retrieval: still on its way
Expired        expired      not retrieved before it expired
Indeterminate  unknown      the MMSC cannot tell
Forwarded      accepted     passed to another MMSC: still on its way
Unrecognised   unknown      the MMSC does not know the message
=============  ===========  ==========================================================

MM4_forward.RES (X-Mms-Request-Status-Code): ``Ok`` → accepted (the next MMSC took it; a
delivery report follows), any ``Error-*`` → rejected (it will not be delivered).

MM4_read_reply_report.REQ and any other type (MM4_delivery_report.RES, types from a later
release): stored as informational receipts, never applied (a read-reply says the handset
showed or deleted the MMS; it is not a delivery status). MM4_forward.REQ (an MMS sent to
us) is refused: MO MMS is not supported, and accepting it would hide that from its sender.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from campaigns.services.transport_api import MM4AccountSettings, MmsContent, PartToSend, ReceiptIn, SubmitOutcome
from mms_transport import mm4
from mms_transport.client import Endpoint, SendResult

MM_STATUS: dict[str, str] = {
    "retrieved": "delivered",
    "rejected": "rejected",
    "deferred": "accepted",
    "expired": "expired",
    "indeterminate": "unknown",
    "forwarded": "accepted",
    "unrecognised": "unknown",
    "unrecognized": "unknown",
}


def endpoint(account: MM4AccountSettings, *, timeout_s: float = 30.0) -> Endpoint:
    """Where the account's MM4 session goes; the login is the SMPP system_id and the API key."""
    return Endpoint(
        host=account.host,
        port=account.port,
        username=account.system_id,
        password=account.api_key,
        tls=account.tls,
        ca_file=account.tls_ca_file or None,
        timeout_s=timeout_s,
        auth_mechanism="PLAIN",
    )


@dataclass(frozen=True)
class Outbound:
    """One message ready for the wire."""

    part: PartToSend
    mail_from: str
    rcpt_to: str
    data: bytes


ID_MAX = 255  # MessagePart.local_message_id


def local_message_id(part: PartToSend, *, domain: str) -> str:
    """A new, globally unique X-Mms-Message-ID for one send of ``part``, already normalised.

    ``<message>.<part>.<random>@<originator domain>`` (RFC 5322 msg-id form): the random part
    keeps it unique across databases and resends. The domain asks for it before the part goes
    on the wire, so the id is on record even when the provider's answer is lost.
    """
    left = f"{part.message_id}.{part.index}.{uuid.uuid4().hex[:16]}"
    return mm4.normalise_message_id(f"{left}@{domain.strip()[: ID_MAX - len(left) - 1]}")


def to_outbound(part: PartToSend, content: MmsContent, account: MM4AccountSettings, *, now: datetime) -> Outbound:
    """The envelope and MM4_forward.REQ of one part; ValueError when the sender is no number.

    The X-Mms-Message-ID is the part's ``local_message_id`` (a new one if it has none)."""
    try:
        sender = mm4.e164_digits(part.sender)
    except ValueError:
        raise ValueError(f"the MMS sender {part.sender!r} is not a phone number in international format") from None
    message_id = part.local_message_id or local_message_id(part, domain=account.originator_domain)
    request = mm4.ForwardRequest(
        sender=sender,
        recipient=part.phone,
        originator_domain=account.originator_domain,
        recipient_domain=account.host,
        transaction_id=f"{part.message_id}-{part.index}-{uuid.uuid4().hex[:12]}",
        message_id=message_id,
        date=now,
        subject=content.subject,
        text=part.body,
        media=tuple(mm4.MediaItem(m.name, m.content_type, m.data) for m in content.media),
        expiry=now + part.validity if part.validity else None,
    )
    return Outbound(
        part=part,
        mail_from=mm4.envelope_address(sender, account.originator_domain),
        rcpt_to=mm4.envelope_address(part.phone, account.host),
        data=mm4.to_bytes(mm4.build_forward_request(request)),
    )


def to_outcome(part: PartToSend, result: SendResult) -> SubmitOutcome:
    """A session's answer as the domain records it; the provider id normalised here, once."""
    if result.outcome == "accepted":
        try:
            provider_id = mm4.normalise_message_id(result.provider_id)
        except ValueError:
            if part.local_message_id:  # a standard report names our id: it can still match
                return SubmitOutcome(part, "accepted")
            return SubmitOutcome(part, "unknown", error=f"accepted without a usable id: {result.reply}"[:255])
        return SubmitOutcome(part, "accepted", provider_message_id=provider_id)
    return SubmitOutcome(part, result.outcome, error_code=result.code, error=result.reply[:255])


def to_receipt(message: mm4.MM4Message) -> ReceiptIn | None:
    """Any MM4 message but an MM4_forward.REQ as a receipt for the inbox; None for that one.

    An MM4_delivery_report.REQ or MM4_forward.RES is a receipt to apply, by the id it refers
    to (:func:`mm4.referenced_message_id`): ValueError when it has no usable one. Anything
    else (a read-reply, an unknown type) is informational, kept with whatever id it names.
    """
    kind = message.message_type.strip().lower()
    if kind == mm4.FORWARD_REQ.lower():
        return None
    if kind == mm4.DELIVERY_REPORT_REQ.lower():
        # X-Mms-Status is the MM1 name of the same field; some MMSCs carry it over to MM4.
        stat = (message.header("X-Mms-MM-Status-Code") or message.header("X-Mms-Status") or "").strip()
        status = MM_STATUS.get(stat.lower(), "unknown")
    elif kind == mm4.FORWARD_RES.lower():
        stat = (message.header("X-Mms-Request-Status-Code") or "").strip()
        status = "accepted" if stat.lower() == "ok" else "rejected"
    else:
        return _informational(message)
    return ReceiptIn(
        provider_message_id=mm4.normalise_message_id(mm4.referenced_message_id(message)),
        status=status,
        stat=stat,
        raw=message.header_block(),
        done_at=message.date,
        channel="mm4",
        msisdn=mm4.address_number(message.header("From") or "") or "",
    )


def _informational(message: mm4.MM4Message) -> ReceiptIn:
    """A read-reply (its X-Mms-Read-Status as ``stat``) or an unknown type (the type as ``stat``)."""
    try:
        referenced = mm4.normalise_message_id(mm4.referenced_message_id(message))
    except ValueError:
        referenced = ""
    stat = (message.header("X-Mms-Read-Status") or message.message_type).strip()
    return ReceiptIn(
        provider_message_id=referenced,
        status="",
        stat=stat,
        raw=message.header_block(),
        done_at=message.date,
        channel="mm4",
        informational=True,
    )
