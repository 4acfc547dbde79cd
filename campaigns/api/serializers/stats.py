"""The live part of GET /campaigns/{id}/stats/: rate, ETA, failure reasons, countries.

Kept apart from the counts (``CampaignStatsSerializer``) so the shape of each is read in
one place; the selectors behind it are ``selectors_live``, ``selectors_failures`` and
``selectors_breakdown``.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from campaigns.api.serializers.campaigns import CampaignStatsSerializer
from campaigns.api.serializers.cost import CostSerializer


class FailureReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Why, in words: the receipt's stat first, then its err where known.")
    code = serializers.CharField(
        help_text="The raw codes behind it, e.g. 'stat UNDELIV, err 001' or 'ESME_RINVDSTADR (0x0B)'; may be empty."
    )
    count = serializers.IntegerField(help_text="Messages with this reason.")


class CountrySerializer(serializers.Serializer):
    country = serializers.CharField(help_text="ISO 3166 region of the number (phonenumbers), or 'unknown'.")
    messages = serializers.IntegerField(help_text="Messages to it (suppressed and cancelled left out).")
    delivered = serializers.IntegerField()
    failed = serializers.IntegerField(help_text="Failed, rejected, undelivered or expired.")
    segments = serializers.IntegerField(help_text="SMS segments of those messages (an MMS counts one).")
    cost = CostSerializer(allow_null=True, help_text="What the accepted segments to it cost; null without a price.")


class ClicksOverTimeSerializer(serializers.Serializer):
    at = serializers.DateTimeField(help_text="Start of the interval (a minute, an hour or a day, by the span).")
    clicks = serializers.IntegerField()
    unique = serializers.IntegerField(help_text="Messages clicked in it (bots left out).")


class LinkClicksSerializer(serializers.Serializer):
    url = serializers.CharField(help_text="The original URL.")
    clicks = serializers.IntegerField()
    unique = serializers.IntegerField(help_text="Messages whose link was clicked (bots left out).")


class ClickStatsSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="Every request for the campaign's short links, bots included.")
    unique = serializers.IntegerField(help_text="Messages with at least one click by something other than a bot.")
    bots = serializers.IntegerField(help_text="Clicks by link previewers and scanners.")
    click_through_rate = serializers.FloatField(allow_null=True, help_text="unique / delivered; null before any.")
    by_agent = serializers.DictField(child=serializers.IntegerField(), help_text="Clicks per class.")
    over_time = ClicksOverTimeSerializer(many=True)
    per_link = LinkClicksSerializer(many=True, help_text="Per original URL, most clicked first (at most 50).")


@extend_schema_serializer(component_name="CampaignStats")  # the counts' component, grown
class CampaignLiveStatsSerializer(CampaignStatsSerializer):
    rate_per_s = serializers.FloatField(
        allow_null=True, help_text="Messages sent per second over the last 10 s; null when not running."
    )
    segments_per_s = serializers.FloatField(
        allow_null=True, help_text="SMS segments sent per second over the last 10 s; null when not running."
    )
    eta_s = serializers.FloatField(
        allow_null=True,
        help_text="Seconds until the last message is handed to the provider, at the campaign's real pace (its "
        "share of the account, its cap, quiet hours, or the measured pace when lower); null when not running.",
    )
    elapsed_s = serializers.FloatField(allow_null=True, help_text="Seconds since the start (to completion once done).")
    failure_reasons = FailureReasonSerializer(many=True, help_text="Not-delivered messages by reason, most first.")
    by_country = CountrySerializer(many=True, help_text="Outcome per destination country, most messages first.")
    clicks = ClickStatsSerializer(allow_null=True, help_text="Tracked short links (docs/links.md); null when off.")
