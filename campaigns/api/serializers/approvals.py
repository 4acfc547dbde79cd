"""Approval before sending: the decision payloads and the campaign's history rows."""

from __future__ import annotations

from rest_framework import serializers

from campaigns.api.serializers.common import StrictCharField, StrictSerializer
from campaigns.models import CampaignEvent

MAX_COMMENT = 2000


class ApprovalCommentSerializer(StrictSerializer):
    comment = StrictCharField(
        max_length=MAX_COMMENT, allow_blank=True, required=False, default="", help_text="Optional note for the history."
    )


class RejectSerializer(StrictSerializer):
    comment = StrictCharField(
        max_length=MAX_COMMENT, help_text="Why the campaign is rejected: what the marketer should change."
    )


class CampaignEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(
        slug_field="username", read_only=True, help_text="Who took the step; null for the platform itself."
    )

    class Meta:
        model = CampaignEvent
        fields = ["id", "at", "kind", "actor", "comment"]
        read_only_fields = fields
