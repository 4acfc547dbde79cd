"""A campaign's history: who did what to it and when (approval steps, sends, pauses, …).

Append-only: rows are written by the services (``campaigns.services.history.record``) in
the same transaction as the change they describe, and never updated or deleted while the
campaign exists; the admin and the API only read them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ApprovalState(models.TextChoices):
    NONE = "none", "Not requested"
    PENDING = "pending", "Waiting for approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class EventKind(models.TextChoices):
    REQUESTED = "requested", "Approval requested"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Approval withdrawn"
    SCHEDULED = "scheduled", "Scheduled"
    UNSCHEDULED = "unscheduled", "Back to draft"
    SENT = "sent", "Sending started"
    PAUSED = "paused", "Paused"
    RESUMED = "resumed", "Resumed"
    CANCELLED = "cancelled", "Cancelled"


class CampaignEvent(models.Model):
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=EventKind.choices)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["campaign", "at"], name="campaign_event_time")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.campaign_id})"
