"""GET /api/v1/messages/: read-only, filtered, cursor-paginated (campaigns run to millions)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins

from campaigns import selectors
from campaigns.api.pagination import MessageCursorPagination
from campaigns.api.serializers.messages import MessageFilterSerializer, MessageSerializer
from campaigns.api.views.base import FilteredListMixin, ResourceViewSet
from campaigns.models import Message
from campaigns.statuses import MessageStatus


@extend_schema_view(
    list=extend_schema(
        summary="List messages, newest first",
        tags=["messages"],
        parameters=[
            OpenApiParameter("campaign", int, description="Only this campaign's messages."),
            OpenApiParameter(
                "status", str, description=f"Comma-separated statuses: {', '.join(MessageStatus.values)}."
            ),
            OpenApiParameter("phone", str, description="Only this recipient (any common format)."),
        ],
    ),
    retrieve=extend_schema(summary="Get a message with its parts", tags=["messages"]),
)
class MessageViewSet(FilteredListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ResourceViewSet):
    serializer_class = MessageSerializer
    pagination_class = MessageCursorPagination
    filters_class = MessageFilterSerializer

    def get_queryset(self) -> QuerySet[Message]:
        return selectors.message_list()

    def filtered_queryset(self, filters: dict[str, Any]) -> QuerySet[Message]:
        return selectors.message_list(
            campaign_id=filters.get("campaign"), statuses=filters.get("status"), phone=filters.get("phone")
        )
