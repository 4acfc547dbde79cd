"""Routes in the API: a route with its entries, written as one document."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from campaigns.api.serializers.common import StrictModelSerializer, StrictPrimaryKeyRelatedField
from campaigns.models import Account, Route, RouteEntry

MAX_ENTRIES = 200


class RouteEntrySerializer(StrictModelSerializer):
    account = StrictPrimaryKeyRelatedField(queryset=Account.objects.only("id"), help_text="The account (its id).")
    price = serializers.DecimalField(
        max_digits=12,
        decimal_places=6,
        min_value=Decimal("0"),
        allow_null=True,
        required=False,
        help_text="Price of a segment through it (least cost); null: the account's price table.",
    )

    class Meta:
        model = RouteEntry
        fields = ["prefix", "account", "weight", "price", "position"]


class RouteSerializer(StrictModelSerializer):
    entries = RouteEntrySerializer(
        many=True,
        max_length=MAX_ENTRIES,
        help_text="Prefix → account entries; the longest prefix a number starts with wins, '' is the default.",
    )

    class Meta:
        model = Route
        fields = ["id", "name", "strategy", "active", "entries", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
