"""Webhook endpoints and deliveries; the URL is checked by campaigns.services.webhooks (SSRF).

The signing secret is write-only: only the create and rotate-secret responses carry it
(:class:`WebhookEndpointCreatedSerializer`, :class:`WebhookSecretSerializer`)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from campaigns.api.serializers.common import StrictModelSerializer
from campaigns.models import WebhookDelivery, WebhookEndpoint, WebhookEventType


class WebhookEndpointSerializer(StrictModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEventType.choices), min_length=1, max_length=3
    )
    secret = serializers.CharField(
        write_only=True,
        required=False,
        min_length=16,
        max_length=128,
        help_text="Optional on create (one is generated); write-only. Replace it with rotate-secret.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "events",
            "campaign",
            "api_sends_only",
            "active",
            "disabled_reason",
            "failing_since",
            "secret",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "disabled_reason", "failing_since", "created_at", "updated_at"]

    def validate_events(self, events: list[str]) -> list[str]:
        return sorted(set(events))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None and "secret" in attrs:
            raise serializers.ValidationError({"secret": "Use the rotate-secret action to change the secret."})
        return attrs


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    """The endpoint with its secret: the one response that shows it."""

    secret = serializers.CharField(read_only=True, help_text="Shown this once: store it now.")


class WebhookSecretSerializer(serializers.Serializer):
    secret = serializers.CharField(read_only=True, help_text="The new secret, shown this once.")


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.UUIDField(source="event.public_id", read_only=True, help_text="X-Webhook-Id.")
    type = serializers.CharField(source="event.type", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "type",
            "status",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "created_at",
            "delivered_at",
        ]
        read_only_fields = fields


class WebhookDeliveryFilters(serializers.Serializer):
    status = serializers.ChoiceField(choices=WebhookDelivery._meta.get_field("status").choices, required=False)
