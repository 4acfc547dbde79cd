"""Translate between the domain's transport API and the SMPP bind's value types.

Pure functions (no Django ORM, no sockets): build the submit_sm fields of a part (its
segment was cut when the batch began), turn bind results into domain outcomes, and
deliver_sm PDUs into receipts.
"""

from __future__ import annotations

from datetime import timedelta

from campaigns.services.transport_api import PartToSend, ReceiptIn, SubmitOutcome
from campaigns.sms_text.encoding import Segment
from smpp_transport.bind import InboundPdu, OutboundPart, SubmitResult
from smpp_transport.receipts import ReceiptError, normalise_message_id, parse_receipt


def validity_period(delta: timedelta | None) -> str | None:
    """SMPP relative time ``YYMMDDhhmmss000R`` (SMPP 3.4 §7.1.1)."""
    if delta is None:
        return None
    total = max(0, int(delta.total_seconds()))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    years, days = divmod(days, 365)
    months, days = divmod(days, 30)
    return f"{min(years, 99):02d}{months:02d}{days:02d}{hours:02d}{minutes:02d}{seconds:02d}000R"


def to_outbound(part: PartToSend) -> OutboundPart:
    """The submit_sm for one part: its segment (``part.payload``, from
    :meth:`SmppSender.segment <smpp_transport.worker.SmppSender.segment>`) with the
    addresses. The part itself is the bind's opaque ``ref`` and comes back with its result."""
    segment = part.payload
    if not isinstance(segment, Segment):
        raise TypeError(f"message {part.message_id} part {part.index}: no SMS segment to send")
    return OutboundPart(
        ref=part,
        source_addr=part.sender,
        source_addr_ton=part.sender_ton,
        source_addr_npi=part.sender_npi,
        destination_addr=part.phone.lstrip("+"),
        short_message=segment.short_message,
        data_coding=segment.data_coding,
        esm_class=segment.esm_class,
        validity_period=validity_period(part.validity),
        optional_params=dict(segment.optional_params),
        flow=part.campaign_id,  # the bind serves campaigns in turns, not whoever queued most
        paced=part.paced,
    )


def to_outcome(result: SubmitResult, id_format: str) -> SubmitOutcome:
    """A bind result as the domain records it; provider ids normalised here, once."""
    if result.outcome == "accepted":
        try:
            provider_id = normalise_message_id(result.message_id or "", id_format, source="resp")
        except ReceiptError as exc:
            # Accepted but without a usable id: receipts can never match it.
            return SubmitOutcome(result.ref, "unknown", error=f"unusable message id: {exc}", sent_at=result.written_at)
        return SubmitOutcome(result.ref, "accepted", provider_message_id=provider_id, sent_at=result.written_at)
    return SubmitOutcome(
        part=result.ref,
        outcome=result.outcome,
        error_code=result.command_status,
        error=result.status_name or "",
        sent_at=result.written_at,
    )


def to_receipt(pdu: InboundPdu, id_format: str) -> ReceiptIn | None:
    """A deliver_sm as a receipt for the inbox, or None when it is a mobile-originated message."""
    parsed = parse_receipt(
        short_message=pdu.short_message,
        esm_class=pdu.esm_class,
        optional_params=pdu.optional_params,
        source_addr=pdu.source_addr,
        destination_addr=pdu.destination_addr,
    )
    if parsed is None:
        return None
    return ReceiptIn(
        provider_message_id=normalise_message_id(parsed.message_id, id_format, source="receipt"),
        status=parsed.status,
        stat=parsed.stat,
        err=parsed.err or "",
        raw=pdu.short_message.decode("latin-1"),
        done_at=parsed.done_date,
        msisdn=parsed.source_addr or pdu.source_addr or "",
    )
