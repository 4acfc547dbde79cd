"""Status webhooks: endpoints, the outbox of events, and one delivery per event × endpoint.

The outbox is written in the same transaction as the status change that causes it
(``campaigns.services.webhook_outbox``): a rolled-back change leaves no event, a committed
one always has its deliveries. A worker (``campaigns.services.webhook_delivery``) POSTs
them, at least once: receivers dedupe by the event's public id.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from campaigns.fields import EncryptedTextField


class WebhookEventType(models.TextChoices):
    MESSAGE_STATUS = "message.status", "Message status changed"
    CAMPAIGN_STATUS = "campaign.status", "Campaign status changed"
    MESSAGE_CLICKED = "message.clicked", "A tracked link of a message was opened"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (refused by the receiver, not retried)"
    GAVE_UP = "gave_up", "Gave up (retried for the whole retry window)"


def default_events() -> list[str]:
    return [WebhookEventType.MESSAGE_STATUS, WebhookEventType.CAMPAIGN_STATUS]


class WebhookEndpoint(models.Model):
    """A URL that wants status events, signed with its own secret."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who made it (its API sends' callback_url is signed with its secret).",
    )
    url = models.URLField(max_length=1000, help_text="Where events are POSTed (https:// in production).")
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(
        default=default_events, help_text='Event types wanted: "message.status", "campaign.status", "message.clicked".'
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="Only events of this campaign (empty: every campaign).",
    )
    api_sends_only = models.BooleanField(default=False, help_text="Only messages of API sends (POST /api/v1/send/).")
    signed_by = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="callbacks",
        help_text="A send's callback_url: signed with this endpoint's secret (its own secret is unused).",
    )
    active = models.BooleanField(default=True)
    disabled_reason = models.CharField(
        max_length=255, blank=True, help_text="Why delivery stopped (set when it failed for too long)."
    )
    secret = EncryptedTextField(
        max_length=128, help_text="The signing secret (HMAC-SHA256). Write-only: shown once, when made or rotated."
    )
    failing_since = models.DateTimeField(
        null=True, blank=True, help_text="First failure of the current run of failures (cleared by a success)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    SECRET_FIELDS = ("secret",)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["active"], name="webhook_endpoint_active_idx")]

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        return f"<WebhookEndpoint {self.pk}: {self.url}>"

    @property
    def signing_secret(self) -> str:
        """The secret that signs this endpoint's POSTs (a callback's: its signing endpoint's)."""
        return self.signed_by.secret if self.signed_by_id else self.secret


class WebhookEvent(models.Model):
    """One status change, as it will be POSTed (``payload`` is the ``message`` or ``campaign`` object)."""

    id = models.BigAutoField(primary_key=True)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, help_text="X-Webhook-Id.")
    type = models.CharField(max_length=32, choices=WebhookEventType.choices)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.type} {self.public_id}"


class WebhookDelivery(models.Model):
    """One event to one endpoint: retried until delivered, refused, or out of time."""

    id = models.BigAutoField(primary_key=True)
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(help_text="Due at (also the lease of a worker sending it).")
    last_error = models.CharField(max_length=255, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [models.UniqueConstraint(fields=["event", "endpoint"], name="webhook_delivery_once")]
        indexes = [
            # The deliverer's query: pending, due first; partial, so finished rows cost nothing.
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due_idx",
                condition=models.Q(status=DeliveryStatus.PENDING),
            ),
            models.Index(fields=["endpoint", "-id"], name="webhook_delivery_endpoint_idx"),
        ]

    def __str__(self) -> str:
        return f"delivery {self.id} of event {self.event_id} to endpoint {self.endpoint_id} ({self.status})"
