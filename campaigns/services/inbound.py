"""Mobile-originated messages: store them (keyword handling builds on this)."""

from __future__ import annotations

from campaigns.models import InboundMessage


def record_inbound(*, account_id: int, source_addr: str, destination_addr: str, text: str, data_coding: int) -> int:
    """Store an MO message durably (before the SMSC is acknowledged); returns its id."""
    message = InboundMessage.objects.create(
        account_id=account_id,
        source_addr=source_addr[:32],
        destination_addr=destination_addr[:32],
        text=text,
        data_coding=data_coding,
    )
    return message.id
