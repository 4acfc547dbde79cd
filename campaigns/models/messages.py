"""One Message per recipient per campaign; one MessagePart per SMS segment.

The database, not the broker, is the source of truth: every part's state is here, so a
crashed worker, a restarted broker or a redelivered batch can always be reconciled.
"""

from __future__ import annotations

from django.db import models

from campaigns.statuses import MessageStatus


class Message(models.Model):
    # Index discipline: every index on these hot tables is written on each status change
    # (status is indexed, so PostgreSQL cannot do HOT updates). The composite indexes that
    # start with campaign_id / message_id / account_id already serve their foreign keys.
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    contact = models.ForeignKey(
        "campaigns.Contact",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
        help_text="The contact it was made from (personalisation); may since have been deleted.",
    )
    phone = models.CharField(max_length=32, help_text="Recipient in international format.")
    account = models.ForeignKey(
        "campaigns.Account",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
        help_text="The account it was given when claimed (a route may move it); empty until then.",
    )
    rerouted_from = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="The account that refused it with a routing error: its route retries it once elsewhere.",
    )
    route_note = models.CharField(
        max_length=200, blank=True, db_default="", help_text="Why the route moved it to this account."
    )
    body = models.TextField(blank=True, help_text="The text as sent, after personalisation.")
    status = models.CharField(max_length=12, choices=MessageStatus.choices, default=MessageStatus.PENDING)
    reason = models.CharField(max_length=255, blank=True, help_text="Why it was suppressed or failed, in words.")
    segments = models.PositiveSmallIntegerField(default=1, help_text="SMS segments (parts) of this message.")
    recipient_tz = models.CharField(max_length=64, blank=True, help_text="Recipient's time zone, for quiet hours.")
    not_before = models.DateTimeField(
        null=True, blank=True, help_text="Do not send before this time (quiet hours, retry backoff)."
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    claim = models.BigIntegerField(
        null=True, blank=True, help_text="The batch that holds this message; a stale batch skips it."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["campaign", "phone"], name="message_unique_phone_per_campaign")]
        indexes = [
            # With id last, the claim (a campaign's pending messages in id order, LIMIT a
            # batch) is one index range that stops after the batch. On (campaign, status)
            # alone PostgreSQL walked the primary key past every message already claimed:
            # 11.4 ms per claim half-way through 20,000 messages, quadratic in the campaign.
            models.Index(fields=["campaign", "status", "id"], name="message_campaign_status_id_idx"),
            # The receipt deadline's probe (campaigns/services/receipt_deadline.py): per
            # campaign, the messages still waiting for a receipt, oldest first, so "is any
            # due?" is one index descent. On messages, not parts: message updates are never
            # HOT anyway (status is indexed above), and a message leaving "accepted" adds no
            # entry here, so the receipt path writes nothing more. Parts have no index on
            # status on purpose: a receipt then updates its part in place (HOT), which a
            # partial index on parts "WHERE status = 'accepted'" would forbid.
            models.Index(
                fields=["campaign", "submitted_at"],
                name="message_awaiting_receipt_idx",
                condition=models.Q(status=MessageStatus.ACCEPTED),
            ),
            # The frequency cap (campaigns/services/frequency_cap.py): a recipient's messages
            # of the last days, one index range per number, stopping at the N-th.
            models.Index(fields=["phone", "created_at"], name="message_phone_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.phone} ({self.status})"


#: Stored width of provider message ids (parts and receipts alike). SMPP 3.4 allows 64
#: characters (a 65-octet C-Octet String); MM4 ids are RFC 5322 msg-ids, longer. Generous, so
#: that only a protocol error is refused (see campaigns/services/provider_fields.py).
PROVIDER_ID_MAX_LENGTH = 255


class MessagePart(models.Model):
    """One SMS segment (or one MMS); each gets its own provider message id and receipt."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="parts", db_index=False)
    account = models.ForeignKey(
        "campaigns.Account",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        help_text="Account it was sent through.",
    )
    index = models.PositiveSmallIntegerField(default=1, help_text="Segment number, from 1.")
    provider_message_id = models.CharField(  # noqa: DJ001 - NULL until the SMSC answers
        max_length=PROVIDER_ID_MAX_LENGTH,
        null=True,
        blank=True,
        help_text="The provider's id, normalised (MMS: from 250 queued as).",
    )
    local_message_id = models.CharField(  # noqa: DJ001 - NULL for SMS: costs nothing, not in the partial index
        max_length=PROVIDER_ID_MAX_LENGTH,
        null=True,
        blank=True,
        help_text="The id we gave it: X-Mms-Message-ID of our MM4_forward.REQ, normalised; MMS only.",
    )
    status = models.CharField(max_length=12, choices=MessageStatus.choices, default=MessageStatus.PENDING)
    error_code = models.IntegerField(null=True, blank=True, help_text="SMPP command status or receipt err.")
    error = models.CharField(max_length=255, blank=True, help_text="The error in words.")
    attempts = models.PositiveSmallIntegerField(default=0)
    submitted_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["message_id", "index"]
        constraints = [models.UniqueConstraint(fields=["message", "index"], name="part_unique_index_per_message")]
        indexes = [
            models.Index(fields=["account", "provider_message_id"], name="part_account_provider_id_idx"),
            # MM4 reports refer to our id (3GPP TS 23.140); partial, so SMS parts add nothing to it.
            models.Index(
                fields=["account", "local_message_id"],
                name="part_account_local_id_idx",
                condition=models.Q(local_message_id__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"part {self.index} of message {self.message_id} ({self.status})"


class BatchInFlight(models.Model):
    """A batch a worker is sending: its messages, and which of them are on the wire now.

    Nothing is written per message before it is sent (that would cost a row version per
    message on the hot path). Instead the worker keeps this one row per batch: before each
    chunk it records the chunk's parts in ``on_wire`` (also its heartbeat), and clears it in
    the transaction that records the chunk's answers. If the worker dies, exactly the
    ``on_wire`` parts are ambiguous (settled as "unknown", or resent by policy); the rest of
    the batch was never sent and is simply sent again. Taking a batch over deletes its row,
    and a worker that finds its row gone stops at once (a fencing token), so a batch is
    never sent by two workers.
    """

    account = models.ForeignKey("campaigns.Account", on_delete=models.CASCADE, related_name="+", db_index=False)
    claim = models.BigIntegerField(help_text="The tick's claim the batch's messages carry.")
    message_ids = models.JSONField(default=list, help_text="Every message of the batch.")
    on_wire = models.JSONField(
        default=list,
        help_text="[message_id, index] (MMS: [message_id, index, our message id]) of the parts handed to the "
        "provider and not yet recorded.",
    )
    worker = models.CharField(max_length=255, blank=True, help_text="Host and process sending it.")
    started_at = models.DateTimeField(auto_now_add=True)
    heartbeat_at = models.DateTimeField(help_text="Last sign of life: updated before every chunk.")

    class Meta:
        verbose_name = "batch in flight"
        verbose_name_plural = "batches in flight"

    def __str__(self) -> str:
        return f"batch {self.id} ({len(self.message_ids)} messages, {len(self.on_wire)} on the wire)"


class MessageStatusDelta(models.Model):
    """Changes to a campaign's count of messages (and segments) per status, appended by a
    PostgreSQL trigger on every statement that inserts, updates or deletes messages.

    The live figures (campaigns/selectors_live.py) sum these rows instead of counting a
    million messages: a few thousand small rows, whatever the campaign's size. Append-only,
    so concurrent senders never wait on each other's counter row; the live figures fold a
    campaign's rows into one per status when they pile up
    (``campaigns.services.status_counts.compact``). The trigger is statement-level with
    transition tables (migration 0016), so an UPDATE of a thousand messages adds a handful
    of rows, not a thousand. No foreign key: the rows of a deleted campaign sum to zero.
    """

    campaign_id = models.BigIntegerField()
    status = models.CharField(max_length=12)
    messages = models.IntegerField()
    segments = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["campaign_id"], name="status_delta_campaign_idx")]

    def __str__(self) -> str:
        return f"campaign {self.campaign_id} {self.status} {self.messages:+d}"
