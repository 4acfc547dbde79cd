"""/api/v1/webhooks/: status webhook endpoints, their secret (shown once), and their delivery log."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from campaigns import selectors_webhooks
from campaigns.api.permissions import requires
from campaigns.api.serializers.webhooks import (
    WebhookDeliveryFilters,
    WebhookDeliverySerializer,
    WebhookEndpointCreatedSerializer,
    WebhookEndpointSerializer,
    WebhookSecretSerializer,
)
from campaigns.api.views.base import ResourceViewSet, query_filters
from campaigns.models import WebhookEndpoint
from campaigns.services import webhooks

TAGS = ["webhooks"]
CAN_CHANGE = [requires("campaigns.view_webhookendpoint", "campaigns.change_webhookendpoint")]
CAN_VIEW_DELIVERIES = [requires("campaigns.view_webhookendpoint", "campaigns.view_webhookdelivery")]


@extend_schema_view(
    list=extend_schema(summary="List webhook endpoints", tags=TAGS),
    create=extend_schema(
        summary="Add a webhook endpoint (the response shows its secret, once)",
        tags=TAGS,
        responses={201: WebhookEndpointCreatedSerializer},
    ),
    retrieve=extend_schema(summary="Get a webhook endpoint", tags=TAGS),
    update=extend_schema(summary="Replace a webhook endpoint", tags=TAGS),
    partial_update=extend_schema(summary="Change a webhook endpoint (active: true re-enables it)", tags=TAGS),
    destroy=extend_schema(summary="Delete a webhook endpoint and its delivery log", tags=TAGS),
)
class WebhookEndpointViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ResourceViewSet,
):
    """Endpoints that receive signed status events (docs/api.md, "Webhooks")."""

    serializer_class = WebhookEndpointSerializer

    def get_queryset(self) -> QuerySet[WebhookEndpoint]:
        return selectors_webhooks.webhook_endpoint_list()

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        payload = self.get_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        endpoint, secret = webhooks.create_endpoint(owner=request.user, **payload.validated_data)
        endpoint.secret = secret
        data = WebhookEndpointCreatedSerializer(endpoint, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        webhooks.update_endpoint(serializer.instance, **serializer.validated_data)

    @extend_schema(
        summary="Replace the signing secret (the response shows the new one, once)",
        tags=TAGS,
        request=None,
        responses={200: WebhookSecretSerializer},
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret", permission_classes=CAN_CHANGE)
    def rotate_secret(self, request: Request, pk: str | None = None) -> Response:
        return Response({"secret": webhooks.rotate_secret(self.get_object())})

    @extend_schema(
        summary="The endpoint's deliveries, newest first",
        tags=TAGS,
        parameters=[WebhookDeliveryFilters],
        responses={200: WebhookDeliverySerializer(many=True)},
    )
    @action(detail=True, methods=["get"], permission_classes=CAN_VIEW_DELIVERIES)
    def deliveries(self, request: Request, pk: str | None = None) -> Response:
        endpoint = self.get_object()
        filters = query_filters(request, WebhookDeliveryFilters)
        deliveries = selectors_webhooks.webhook_delivery_list(endpoint_id=endpoint.id, status=filters.get("status"))
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)
