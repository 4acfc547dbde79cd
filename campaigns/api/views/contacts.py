"""/api/v1/contacts/ and /api/v1/opt-outs/: CRUD with numbers normalised to E.164."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from campaigns import selectors
from campaigns.api.serializers.audience import (
    ContactFilters,
    ContactSerializer,
    OptOutFilters,
    OptOutSerializer,
    OptOutUpdateSerializer,
)
from campaigns.api.views.base import CrudViewSet, FilteredListMixin
from campaigns.models import Contact, OptOut
from campaigns.services import optouts


@extend_schema_view(
    list=extend_schema(summary="List contacts", tags=["contacts"], parameters=[ContactFilters]),
    create=extend_schema(summary="Add a contact to a list", tags=["contacts"]),
    retrieve=extend_schema(summary="Get a contact", tags=["contacts"]),
    update=extend_schema(summary="Replace a contact", tags=["contacts"]),
    partial_update=extend_schema(summary="Change a contact", tags=["contacts"]),
    destroy=extend_schema(summary="Remove a contact", tags=["contacts"]),
)
class ContactViewSet(FilteredListMixin, CrudViewSet):
    """Contacts of recipient lists; numbers are stored in E.164, one per number and list."""

    serializer_class = ContactSerializer
    filters_class = ContactFilters

    def get_queryset(self) -> QuerySet[Contact]:
        return selectors.contact_list()

    def filtered_queryset(self, filters: dict[str, Any]) -> QuerySet[Contact]:
        return selectors.contact_list(recipient_list_id=filters.get("list"), phone=filters.get("phone"))


@extend_schema_view(
    list=extend_schema(summary="List opt-outs", tags=["opt-outs"], parameters=[OptOutFilters]),
    create=extend_schema(
        summary="Opt a number out (its unsent messages are suppressed)",
        description="Idempotent: 201 with the new opt-out, or 200 with the one already recorded.",
        tags=["opt-outs"],
        responses={201: OptOutSerializer, 200: OptOutSerializer},
    ),
    retrieve=extend_schema(summary="Get an opt-out", tags=["opt-outs"]),
    update=extend_schema(summary="Replace an opt-out's note", tags=["opt-outs"]),
    partial_update=extend_schema(summary="Change an opt-out's note", tags=["opt-outs"]),
    destroy=extend_schema(summary="Remove an opt-out (the number may receive again)", tags=["opt-outs"]),
)
class OptOutViewSet(FilteredListMixin, CrudViewSet):
    """Numbers that must not receive campaigns, from one account or (account null) from all."""

    filters_class = OptOutFilters

    def get_serializer_class(self) -> type[OptOutSerializer]:
        return OptOutUpdateSerializer if self.action in ("update", "partial_update") else OptOutSerializer

    def get_queryset(self) -> QuerySet[OptOut]:
        return selectors.opt_out_list()

    def filtered_queryset(self, filters: dict[str, Any]) -> QuerySet[OptOut]:
        return selectors.opt_out_list(account_id=filters.get("account"), phone=filters.get("phone"))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        opt_out, created = optouts.add_optout(**self.validated(self.get_serializer_class()))
        return self.respond(opt_out, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def perform_destroy(self, instance: OptOut) -> None:
        optouts.remove_optout(optout=instance)
