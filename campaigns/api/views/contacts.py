"""/api/v1/contacts/ and /api/v1/opt-outs/: CRUD with numbers normalised to E.164."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers

from campaigns import selectors
from campaigns.api.serializers.audience import ContactSerializer, OptOutSerializer
from campaigns.api.serializers.common import MAX_ID, PhoneField
from campaigns.api.views.base import FilteredListMixin, ResourceViewSet
from campaigns.models import Contact, OptOut


class CrudViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ResourceViewSet,
):
    pass


class ContactFilters(serializers.Serializer):
    list = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID, help_text="A recipient list id.")
    phone = PhoneField(required=False, help_text="A number, in any common format.")


class OptOutFilters(serializers.Serializer):
    account = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID, help_text="An account id.")
    phone = PhoneField(required=False, help_text="A number, in any common format.")


def _parameters(filters: type[serializers.Serializer]) -> list[OpenApiParameter]:
    return [
        OpenApiParameter(name, int if isinstance(field, serializers.IntegerField) else str, description=field.help_text)
        for name, field in filters().fields.items()
    ]


@extend_schema_view(
    list=extend_schema(summary="List contacts", tags=["contacts"], parameters=_parameters(ContactFilters)),
    create=extend_schema(summary="Add a contact to a list", tags=["contacts"]),
    retrieve=extend_schema(summary="Get a contact", tags=["contacts"]),
    update=extend_schema(summary="Replace a contact", tags=["contacts"]),
    partial_update=extend_schema(summary="Change a contact", tags=["contacts"]),
    destroy=extend_schema(summary="Remove a contact", tags=["contacts"]),
)
class ContactViewSet(FilteredListMixin, CrudViewSet):
    serializer_class = ContactSerializer
    filters_class = ContactFilters

    def get_queryset(self) -> QuerySet[Contact]:
        return selectors.contact_list()

    def filtered_queryset(self, filters: dict[str, Any]) -> QuerySet[Contact]:
        return selectors.contact_list(recipient_list_id=filters.get("list"), phone=filters.get("phone"))


@extend_schema_view(
    list=extend_schema(summary="List opt-outs", tags=["opt-outs"], parameters=_parameters(OptOutFilters)),
    create=extend_schema(summary="Opt a number out", tags=["opt-outs"]),
    retrieve=extend_schema(summary="Get an opt-out", tags=["opt-outs"]),
    update=extend_schema(summary="Replace an opt-out", tags=["opt-outs"]),
    partial_update=extend_schema(summary="Change an opt-out", tags=["opt-outs"]),
    destroy=extend_schema(summary="Remove an opt-out (the number may receive again)", tags=["opt-outs"]),
)
class OptOutViewSet(FilteredListMixin, CrudViewSet):
    serializer_class = OptOutSerializer
    filters_class = OptOutFilters

    def get_queryset(self) -> QuerySet[OptOut]:
        return selectors.opt_out_list()

    def filtered_queryset(self, filters: dict[str, Any]) -> QuerySet[OptOut]:
        return selectors.opt_out_list(account_id=filters.get("account"), phone=filters.get("phone"))
