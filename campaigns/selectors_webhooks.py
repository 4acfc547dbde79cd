"""Reads of webhook endpoints and their delivery log."""

from __future__ import annotations

from django.db.models import QuerySet

from campaigns.models import WebhookDelivery, WebhookEndpoint


def webhook_endpoint_list() -> QuerySet[WebhookEndpoint]:
    """Endpoints made through /webhooks/ (not the per-send callback_url ones, seen in the admin)."""
    return WebhookEndpoint.objects.filter(signed_by=None).order_by("id")


def webhook_delivery_list(*, endpoint_id: int, status: str | None = None) -> QuerySet[WebhookDelivery]:
    """An endpoint's deliveries, newest first (the partial index on endpoint, -id serves it)."""
    deliveries = WebhookDelivery.objects.filter(endpoint_id=endpoint_id).select_related("event").order_by("-id")
    return deliveries.filter(status=status) if status else deliveries
