"""Campaigns: the editable fields, the action payloads, and the stats shape.

The status and its timestamps are read-only here: they change only through the action
routes (schedule, send-now, …), which call ``campaign_actions`` and so keep the same rules
as the admin buttons.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, datetime, time, timedelta
from functools import cache
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from campaigns.api.serializers.common import (
    IdListField,
    QueryBooleanField,
    StrictCharField,
    StrictDurationField,
    StrictIntegerField,
    StrictModelSerializer,
    StrictPrimaryKeyRelatedField,
    StrictSerializer,
)
from campaigns.api.serializers.cost import CostSerializer
from campaigns.errors import ApplicationError
from campaigns.models import Account, ApprovalState, Campaign, CampaignStatus, RecipientList, Route
from campaigns.services import routes
from campaigns.services.personalise import template_problems
from campaigns.services.resend import UNKNOWN_RISK
from campaigns.statuses import MessageStatus

LOCAL_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?")
MAX_BODY = 5000
MAX_RECIPIENT_LISTS = 100
MAX_TEST_PHONES = 20


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@extend_schema_field(
    {"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$", "example": "09:00"}
)
class LocalTimeField(serializers.TimeField):
    """A wall-clock time of the recipient, HH:MM[:SS], without offset (the zone is the recipient's)."""

    def to_internal_value(self, value: Any) -> time:
        if not isinstance(value, str) or not LOCAL_TIME.fullmatch(value):
            raise serializers.ValidationError("Give a local time as HH:MM, e.g. 09:00.", code="invalid")
        return super().to_internal_value(value)


class CampaignSerializer(StrictModelSerializer):
    account = StrictPrimaryKeyRelatedField(
        queryset=Account.objects.only("id", "active"),
        required=False,
        help_text="The provider account to send through (its id); with a route, the route's home account.",
    )
    route = StrictPrimaryKeyRelatedField(
        queryset=Route.objects.all(),
        required=False,
        allow_null=True,
        help_text="Send through a route instead of one account (its id): give exactly one of account and route.",
    )
    body = StrictCharField(
        max_length=MAX_BODY,
        allow_blank=True,
        required=False,
        help_text='The text; personalise with {{ first_name }} or {{ first_name|default:"there" }}.',
    )
    recipient_lists = IdListField(
        queryset=RecipientList.objects.only("id"),
        max_length=MAX_RECIPIENT_LISTS,
        required=False,
        help_text="Ids of the recipient lists; a number on several lists receives the campaign once.",
    )
    timezone = StrictCharField(
        max_length=64, required=False, help_text="IANA time zone for the schedule and quiet hours, e.g. Europe/London."
    )
    send_rate = StrictIntegerField(
        min_value=1,
        max_value=100_000,
        allow_null=True,
        required=False,
        help_text="Optional pace in SMS segments per second (an MMS counts one); null: as fast as the account allows.",
    )
    quiet_hours_start = LocalTimeField(
        allow_null=True, required=False, help_text="Send only from this local time of the recipient, e.g. 09:00."
    )
    quiet_hours_end = LocalTimeField(
        allow_null=True, required=False, help_text="…until this local time of the recipient, e.g. 20:00."
    )
    validity_period = StrictDurationField(
        min_value=timedelta(minutes=1),
        max_value=timedelta(days=365),
        allow_null=True,
        required=False,
        help_text="How long the network keeps trying, e.g. '1 00:00:00' (a day) or 'P1D'.",
    )

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "channel",
            "account",
            "route",
            "sender",
            "body",
            "smart_encoding",
            "track_links",
            "mms_subject",
            "recipient_lists",
            "timezone",
            "send_rate",
            "quiet_hours_start",
            "quiet_hours_end",
            "validity_period",
            "status",
            "scheduled_at",
            "is_test",
            "resend_of",
            "created_at",
            "started_at",
            "completed_at",
            "approval_state",
            "approved_by",
            "approved_at",
        ]
        read_only_fields = [
            "id",
            "status",
            "scheduled_at",
            "is_test",
            "resend_of",
            "created_at",
            "started_at",
            "completed_at",
            "approval_state",
            "approved_by",
            "approved_at",
        ]
        extra_kwargs = {"approved_by": {"help_text": "Id of the approver who approved it (null unless approved)."}}

    def validate_timezone(self, value: str) -> str:
        if value not in _zones():
            raise serializers.ValidationError("Unknown time zone; use an IANA name such as Europe/London.")
        return value

    def validate_body(self, value: str) -> str:
        problems = template_problems(value)
        if problems:
            raise serializers.ValidationError(problems[0], code="invalid_template")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = self._account_or_route(attrs)
        start = attrs.get("quiet_hours_start", getattr(self.instance, "quiet_hours_start", None))
        end = attrs.get("quiet_hours_end", getattr(self.instance, "quiet_hours_end", None))
        if (start is None) != (end is None):
            raise serializers.ValidationError(
                {"quiet_hours_end": ["Give both ends of the sending window, or neither."]}, code="invalid"
            )
        return attrs

    def _account_or_route(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Exactly one of account and route; a route's campaign names its home account."""
        if "account" in attrs and attrs.get("route") is not None:
            raise serializers.ValidationError(
                {"route": ["Give either an account or a route, not both."]}, code="invalid"
            )
        if attrs.get("route") is not None:
            if not attrs["route"].active:
                raise serializers.ValidationError({"route": ["The route is inactive."]}, code="invalid")
            try:
                attrs["account"] = routes.home_account(attrs["route"])
            except ApplicationError as exc:
                raise serializers.ValidationError({"route": [str(exc)]}, code="invalid") from None
        elif "account" in attrs:
            attrs["route"] = None
        elif self.instance is None:
            raise serializers.ValidationError({"account": ["Give an account or a route."]}, code="required")
        return attrs


class WallClockDateTimeField(serializers.DateTimeField):
    """Keeps a naive input naive, so the view can read it in the campaign's own zone."""

    def enforce_timezone(self, value: datetime) -> datetime:
        return value


class ScheduleSerializer(StrictSerializer):
    """When to start sending. A time without an offset is read in the campaign's own time zone."""

    # Needs context["campaign"] for that zone, as the admin's schedule does.

    scheduled_at = WallClockDateTimeField(
        help_text="When to start, ISO 8601. Without an offset it is read in the campaign's time zone.",
    )

    def validate_scheduled_at(self, value: datetime) -> datetime:
        if timezone.is_naive(value):
            campaign: Campaign = self.context["campaign"]
            zone = zoneinfo.ZoneInfo(campaign.timezone if campaign.timezone in _zones() else "UTC")
            value = timezone.make_aware(value, zone)
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise serializers.ValidationError("The time is out of range.", code="overflow") from None


class TestSendSerializer(StrictSerializer):
    phones = serializers.ListField(
        child=StrictCharField(max_length=64),
        min_length=1,
        max_length=MAX_TEST_PHONES,
        help_text=f"Up to {MAX_TEST_PHONES} numbers to send a test to.",
    )
    contact = StrictIntegerField(
        min_value=1,
        max_value=2**63 - 1,
        required=False,
        allow_null=True,
        help_text="Id of a contact on the campaign's lists whose data fills the template; "
        "by default the campaign's first recipient (lowest number).",
    )


class CampaignStatsSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="Messages in the campaign.")
    waiting = serializers.IntegerField(help_text="Pending, queued or being submitted.")
    sent = serializers.IntegerField(help_text="Accepted by the provider (whatever happened next).")
    delivered = serializers.IntegerField()
    failed = serializers.IntegerField(help_text="Failed, rejected, undelivered or expired.")
    suppressed = serializers.IntegerField(help_text="Not sent: opted out, invalid number or frequency cap.")
    cancelled = serializers.IntegerField()
    delivery_rate = serializers.FloatField(allow_null=True, help_text="delivered / sent; null before any is sent.")
    by_status = serializers.DictField(
        child=serializers.IntegerField(), help_text=f"Count per status: {', '.join(MessageStatus.values)}."
    )
    # Cost (campaigns.selectors_cost): null when the account has no price per segment.
    estimated_cost = CostSerializer(allow_null=True, help_text="Every segment the campaign will send, priced.")
    spent_cost = CostSerializer(allow_null=True, help_text="The segments the provider accepted, priced.")


class CampaignFilters(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=CampaignStatus.choices, required=False, allow_blank=True, help_text="Only this state."
    )
    is_test = QueryBooleanField(required=False, help_text="true: only test sends; false: leave them out.")
    approval_state = serializers.ChoiceField(
        choices=ApprovalState.choices, required=False, allow_blank=True, help_text="Only this approval state."
    )


class ResendFailedSerializer(StrictSerializer):
    include_unknown = serializers.BooleanField(
        default=False,
        help_text="Also resend to the messages left `unknown` (no delivery receipt by the receipt deadline). "
        f"Off by default: {UNKNOWN_RISK}",
    )
