"""Messages and their parts (read-only), and the query parameters that filter them."""

from __future__ import annotations

from rest_framework import serializers

from campaigns.api.serializers.common import MAX_ID, PhoneField, QueryIntegerField
from campaigns.failure_reasons import Reason
from campaigns.models import Channel, Message, MessagePart
from campaigns.selectors_failures import message_reason
from campaigns.statuses import MessageStatus

MAX_STATUS_FILTERS = len(MessageStatus.values)


class MessagePartSerializer(serializers.ModelSerializer):
    class Meta:
        model = MessagePart
        fields = [
            "index",
            "status",
            "provider_message_id",
            "local_message_id",
            "error_code",
            "error",
            "submitted_at",
            "done_at",
        ]
        read_only_fields = fields


class MessageSerializer(serializers.ModelSerializer):
    channel = serializers.ChoiceField(source="campaign.channel", choices=Channel.choices, read_only=True)
    parts = MessagePartSerializer(many=True, read_only=True)
    reason = serializers.SerializerMethodField(
        help_text="Why it did not arrive (or was not sent), in words: the receipt's stat first, then its err where "
        "known, the SMPP command status or MM4 reply for a submit failure. Empty while fine."
    )
    reason_code = serializers.SerializerMethodField(
        help_text="The raw codes the reason is based on, e.g. 'stat EXPIRED, err 001'; empty when none."
    )

    def _reason(self, message: Message) -> Reason:
        cached = getattr(message, "_reason", None)
        if cached is None:
            cached = message_reason(message)
            if not cached.words and message.reason:
                cached = Reason(message.reason)
            message._reason = cached
        return cached

    def get_reason(self, message: Message) -> str:
        return self._reason(message).words

    def get_reason_code(self, message: Message) -> str:
        return self._reason(message).code

    class Meta:
        model = Message
        fields = [
            "id",
            "campaign",
            "channel",
            "phone",
            "account",
            "route_note",
            "body",
            "status",
            "reason",
            "reason_code",
            "segments",
            "attempts",
            "created_at",
            "updated_at",
            "submitted_at",
            "done_at",
            "parts",
        ]
        read_only_fields = fields


class MessageFilterSerializer(serializers.Serializer):
    """Query parameters of GET /messages/, validated like a body (a bad value is a 400)."""

    campaign = QueryIntegerField(required=False, min_value=1, max_value=MAX_ID, help_text="A campaign id.")
    status = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text=f"One status or several, comma-separated: {', '.join(MessageStatus.values)}.",
    )
    phone = PhoneField(required=False, allow_blank=True, help_text="The recipient, in any common format.")

    def validate_status(self, value: str) -> list[str]:
        statuses = [s.strip() for s in value.split(",") if s.strip()]
        unknown = [s for s in statuses if s not in MessageStatus.values]
        if unknown:
            raise serializers.ValidationError(
                f"Unknown status {unknown[0][:30]!r}; use one of {', '.join(MessageStatus.values)}.",
                code="invalid_choice",
            )
        return statuses[:MAX_STATUS_FILTERS]
