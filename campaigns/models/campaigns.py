"""A campaign: what to send, to whom, through which account, and when."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from campaigns.models.history import ApprovalState
from campaigns.statuses import CampaignStatus

APPROVAL_COLUMNS = frozenset({"approval_state", "approved_by", "approved_at"})


class Channel(models.TextChoices):
    SMS = "sms", "SMS"
    MMS = "mms", "MMS"


class Campaign(models.Model):
    name = models.CharField(max_length=200, help_text="A name for this campaign, e.g. 'Spring sale'.")
    channel = models.CharField(max_length=3, choices=Channel.choices, default=Channel.SMS, help_text="SMS or MMS.")
    account = models.ForeignKey(
        "campaigns.Account",
        on_delete=models.PROTECT,
        related_name="campaigns",
        help_text="The provider account to send through (with a route: its home account, for settings and reports).",
    )
    route = models.ForeignKey(
        "campaigns.Route",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="campaigns",
        help_text="Send through a route instead: each message gets its account by prefix, weight or price.",
    )
    sender = models.CharField(
        max_length=21, blank=True, help_text="Sender number or name; blank uses the account's default sender."
    )
    body = models.TextField(
        blank=True,
        help_text=(
            "The message. Personalise with {{ first_name }}, {{ last_name }} or any imported column, "
            'and give a fallback with {{ first_name|default:"there" }}.'
        ),
    )
    mms_subject = models.CharField("MMS subject", max_length=200, blank=True, help_text="MMS only: the subject line.")
    recipient_lists = models.ManyToManyField(
        "campaigns.RecipientList",
        related_name="campaigns",
        blank=True,
        help_text="Who receives it. A number on several lists receives it once.",
    )
    scheduled_at = models.DateTimeField(
        null=True, blank=True, help_text="When to start sending. Empty: send only when you press 'send now'."
    )
    timezone = models.CharField(
        max_length=64,
        default="UTC",
        help_text="Time zone for the schedule, and for quiet hours when a number's own zone is unclear.",
    )
    status = models.CharField(
        max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT, db_index=True
    )
    send_rate = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=(
            "Optional pace in SMS segments (MMS: messages) per second: the provider never sees this "
            "campaign faster. Empty: as fast as the account allows, shared fairly with its other campaigns."
        ),
    )
    quiet_hours_start = models.TimeField(
        null=True, blank=True, help_text="Send only from this local time of the recipient (e.g. 09:00)."
    )
    quiet_hours_end = models.TimeField(
        null=True, blank=True, help_text="…until this local time of the recipient (e.g. 20:00)."
    )
    validity_period = models.DurationField(
        null=True,
        blank=True,
        help_text="How long the network keeps trying to deliver (e.g. 1 day). Empty: the provider's default.",
    )
    smart_encoding = models.BooleanField(
        default=True,
        help_text=(
            "Replace characters that only look like GSM ones (curly quotes, dashes, special spaces, ellipsis, "
            "fullwidth letters) so the SMS stays in GSM: 160 characters per SMS instead of 70. Applied only when "
            "it saves or costs no segment; emoji and letters such as ł or Ж are never changed."
        ),
    )
    track_links = models.BooleanField(
        default=False,
        help_text=(
            "Replace every http(s) link in the text by a short tracked link, one per message, "
            "so the report shows who clicked (each link becomes the link domain plus 11 characters)."
        ),
    )
    is_test = models.BooleanField(default=False, help_text="Test sends are kept out of reports and statistics.")
    is_single_send = models.BooleanField(
        default=False,
        help_text="Made by one API send (POST /api/v1/send/): listed apart from the marketers' campaigns.",
    )
    resend_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="resends",
        help_text="The campaign whose failed recipients this one retries.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    materialised_at = models.DateTimeField(
        null=True, blank=True, help_text="When the recipients were turned into messages."
    )
    # Approval before sending (campaigns.services.approvals; off unless APPROVAL_REQUIRED_ABOVE is set).
    approval_state = models.CharField(max_length=8, choices=ApprovalState.choices, default=ApprovalState.NONE)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["id"], condition=models.Q(approval_state="pending"), name="campaign_pending_approval")
        ]
        permissions = [
            ("send_campaign", "Can send, schedule, pause, resume and cancel campaigns"),
            ("approve_campaign", "Can approve or reject campaigns before they are sent"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Saving a whole row (a form, a serializer) leaves the approval columns alone: only
        ``campaigns.services.approvals`` writes them, with one UPDATE under the row lock.
        Otherwise an edit loaded before an approval (or a withdrawal) would put the old
        state back: an approval lost, or one restored over a changed text."""
        if not self._state.adding and kwargs.get("update_fields") is None and not kwargs.get("force_insert"):
            kwargs["update_fields"] = [
                f.name for f in self._meta.concrete_fields if not f.primary_key and f.name not in APPROVAL_COLUMNS
            ]
        super().save(*args, **kwargs)


class CampaignMedia(models.Model):
    """One media file of an MMS campaign (image, audio or video)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="media")
    file = models.FileField(upload_to="mms/%Y/%m/", help_text="Image, audio or video.")
    content_type = models.CharField(max_length=100, help_text="e.g. image/jpeg.")
    size = models.PositiveIntegerField(default=0, help_text="Bytes.")
    position = models.PositiveSmallIntegerField(default=0, help_text="Order within the message.")

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.file.name


class CampaignPace(models.Model):
    """Where a capped campaign's send rate is kept as a pace, across every bind and host.

    One row per capped campaign that has sent: ``tat`` (the GCRA's theoretical arrival
    time) is the moment the campaign's next segment may go, in seconds since the epoch on
    the database's clock. Senders reserve slots with one ``INSERT … ON CONFLICT DO UPDATE
    … RETURNING`` (``campaigns.services.pace.reserve``), so reservations by any number of
    workers are serialised by the row and never overlap. A small table of its own, not a
    column on the campaign: the row is rewritten a few times a second while a campaign
    sends, and a campaign row (with its body) is wide and read everywhere.
    """

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, primary_key=True, related_name="+")
    tat = models.FloatField(help_text="When the next segment may be sent (epoch seconds, the database's clock).")

    def __str__(self) -> str:
        return f"pace of campaign {self.campaign_id}"
