"""A campaign's cost in the stats: a decimal string and its currency (campaigns.selectors_cost)."""

from __future__ import annotations

from rest_framework import serializers


class CostSerializer(serializers.Serializer):
    amount = serializers.CharField(help_text='A decimal string with 4 places, e.g. "12.3450" (never a float).')
    currency = serializers.CharField(help_text="ISO 4217 code of the account's prices, e.g. EUR.")
