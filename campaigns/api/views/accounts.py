"""GET /api/v1/accounts/: provider accounts by id, name and system_id (never their secrets)."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins

from campaigns import selectors
from campaigns.api.serializers.accounts import AccountSerializer
from campaigns.api.views.base import ResourceViewSet
from campaigns.models import Account


@extend_schema_view(
    list=extend_schema(summary="List accounts", tags=["accounts"]),
    retrieve=extend_schema(summary="Get an account", tags=["accounts"]),
)
class AccountViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ResourceViewSet):
    """Read-only: accounts (and their credentials) are managed by operators in the admin."""

    serializer_class = AccountSerializer

    def get_queryset(self) -> QuerySet[Account]:
        return selectors.account_list()
