"""Accounts are read-only in the API and show only what identifies them.

The serializer lists its fields explicitly (never ``__all__``): a secret added to the
model later cannot leak by default. ``smpp_password`` and ``mm4_api_key`` never appear.
"""

from __future__ import annotations

from rest_framework import serializers

from campaigns.models import Account


class AccountSerializer(serializers.ModelSerializer):
    class Meta:
        model = Account
        fields = ["id", "name", "system_id"]
        read_only_fields = fields
