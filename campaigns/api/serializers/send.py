"""POST /api/v1/send/: one SMS or MMS to one number."""

from __future__ import annotations

from rest_framework import serializers

from campaigns.api.serializers.common import StrictCharField, StrictPrimaryKeyRelatedField, StrictSerializer
from campaigns.models import Account, Channel, Route

MAX_SINGLE_BODY = 1600


class SingleSendSerializer(StrictSerializer):
    """One message to one number. The number may be in any common format; it is stored in E.164."""

    # Shape only: the number's validity, opt-outs and the account's state are the service's to judge.

    account = StrictPrimaryKeyRelatedField(
        queryset=Account.objects.all(),
        required=False,
        help_text="The provider account to send through (its id); or give a route.",
    )
    route = StrictPrimaryKeyRelatedField(
        queryset=Route.objects.all(),
        required=False,
        help_text="Send through a route instead (its id): its prefixes choose the account. One of account, route.",
    )
    phone = StrictCharField(max_length=64, help_text="The recipient, e.g. +447700900123 (any common format).")
    body = StrictCharField(
        max_length=MAX_SINGLE_BODY,
        allow_blank=True,
        required=False,
        default="",
        help_text='The text. {{ name|default:"x" }} tags render their default (there is no contact).',
    )
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.SMS, required=False)
    sender = StrictCharField(
        max_length=21, allow_blank=True, required=False, default="", help_text="Blank: the account's default sender."
    )
    subject = StrictCharField(
        max_length=200, allow_blank=True, required=False, default="", help_text="MMS only: the subject line."
    )
    callback_url = serializers.URLField(
        max_length=1000,
        required=False,
        help_text="POST this message's status changes here, signed with the secret of your oldest active "
        "webhook endpoint (docs/api.md, Webhooks).",
    )

    def validate(self, attrs: dict) -> dict:
        if ("account" in attrs) == ("route" in attrs):
            raise serializers.ValidationError({"route": ["Give exactly one of account and route."]}, code="invalid")
        return attrs
