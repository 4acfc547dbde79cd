"""/api/v1/routes/: routes (prefix → accounts, by weight or least cost) with their entries."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers

from campaigns.api.serializers.routes import RouteSerializer
from campaigns.api.views.base import CrudViewSet
from campaigns.models import Route
from campaigns.services import routes

TAGS = ["routes"]


@extend_schema_view(
    list=extend_schema(summary="List routes", tags=TAGS),
    create=extend_schema(summary="Create a route with its entries", tags=TAGS),
    retrieve=extend_schema(summary="Get a route", tags=TAGS),
    update=extend_schema(summary="Replace a route and its entries", tags=TAGS),
    partial_update=extend_schema(summary="Change a route (entries, if given, are replaced)", tags=TAGS),
    destroy=extend_schema(summary="Delete a route no campaign uses", tags=TAGS),
)
class RouteViewSet(CrudViewSet):
    """Routes spread a campaign's messages over several accounts and fail over between them."""

    serializer_class = RouteSerializer

    def get_queryset(self) -> QuerySet[Route]:
        return Route.objects.prefetch_related("entries").order_by("name", "id")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        entries = data.pop("entries")
        serializer.instance = routes.save_route(route=None, fields=data, entries=entries)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        entries = data.pop("entries", None)
        serializer.instance = routes.save_route(route=serializer.instance, fields=data, entries=entries)

    def perform_destroy(self, instance: Route) -> None:
        routes.delete_route(route=instance)
