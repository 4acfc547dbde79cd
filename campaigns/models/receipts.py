"""What comes back from the provider: delivery receipts and mobile-originated messages.

Receipts land in an inbox first, exactly as received, before the SMSC is acknowledged:
a crash between receiving and applying then loses nothing, and a receipt that beats its
submit_sm_resp simply waits in the inbox until the part's provider id is known.
"""

from __future__ import annotations

from django.db import models

from campaigns.models.messages import PROVIDER_ID_MAX_LENGTH


class ReceiptState(models.TextChoices):
    PENDING = "pending", "Pending"
    APPLIED = "applied", "Applied"
    ORPHANED = "orphaned", "Orphaned (no matching message)"
    #: Kept for the record, never applied: an MM4 read-reply or a message type that says
    #: nothing about delivery. Never pending, so it can never move a part.
    INFO = "info", "Information only (never applied)"


class Receipt(models.Model):
    account = models.ForeignKey("campaigns.Account", on_delete=models.CASCADE, related_name="receipts")
    provider_message_id = models.CharField(
        max_length=PROVIDER_ID_MAX_LENGTH,
        help_text="The id it refers to, normalised: the provider's id (MM4: ours or the provider's).",
    )
    stat = models.CharField(max_length=16, blank=True, help_text="Receipt state as sent, e.g. DELIVRD.")
    status = models.CharField(max_length=12, help_text="The message status this receipt means.")
    err = models.CharField(max_length=16, blank=True, help_text="The provider's error code, if any.")
    raw = models.TextField(blank=True, help_text="The receipt exactly as received.")
    msisdn = models.CharField(
        max_length=32, blank=True, help_text="The handset the message went to, as the receipt gives it."
    )
    channel = models.CharField(max_length=4, default="smpp", help_text="smpp or mm4.")
    done_at = models.DateTimeField(null=True, blank=True, help_text="When the network says it finished.")
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    state = models.CharField(max_length=10, choices=ReceiptState.choices, default=ReceiptState.PENDING)
    applied_at = models.DateTimeField(null=True, blank=True)
    part = models.ForeignKey(
        "campaigns.MessagePart", on_delete=models.SET_NULL, null=True, blank=True, related_name="receipts"
    )

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["state", "account", "provider_message_id"], name="receipt_match_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.provider_message_id} {self.stat}"


class InboundMessage(models.Model):
    """A mobile-originated message: a reply from a recipient (e.g. STOP)."""

    account = models.ForeignKey("campaigns.Account", on_delete=models.CASCADE, related_name="inbound_messages")
    source_addr = models.CharField(max_length=32, help_text="Who sent it.")
    destination_addr = models.CharField(max_length=32, help_text="Our number it was sent to.")
    text = models.TextField(blank=True)
    data_coding = models.PositiveSmallIntegerField(default=0)
    action = models.CharField(max_length=16, blank=True, help_text="What it triggered: opt-out, opt-in or nothing.")
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.source_addr}: {self.text[:30]}"
