"""GET /api/v1/messages/: read-only, filtered, cursor-paginated (campaigns run to millions)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins

from campaigns import selectors
from campaigns.api.pagination import MessageCursorPagination
from campaigns.api.serializers.messages import MessageFilterSerializer, MessageSerializer
from campaigns.api.views.base import FilteredListMixin, ResourceViewSet
from campaigns.models import Message


@extend_schema_view(
    list=extend_schema(
        summary="List messages, newest first",
        tags=["messages"],
        parameters=[MessageFilterSerializer],
    ),
    retrieve=extend_schema(summary="Get a message with its parts", tags=["messages"]),
)
class MessageViewSet(FilteredListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ResourceViewSet):
    """One message per recipient per campaign, with its SMS parts; cursor-paginated, newest first."""

    serializer_class = MessageSerializer
    pagination_class = MessageCursorPagination
    filters_class = MessageFilterSerializer

    def get_queryset(self) -> QuerySet[Message]:
        return selectors.message_list()

    def filtered_queryset(self, filters: dict[str, Any]) -> QuerySet[Message]:
        return selectors.message_list(
            campaign_id=filters.get("campaign"), statuses=filters.get("status"), phone=filters.get("phone")
        )
