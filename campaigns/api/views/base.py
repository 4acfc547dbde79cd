"""What every resource view shares: role permissions, bounded ids, validated query filters,
no query parameter that reaches a secret, and one way to read a body and answer.

A resource with the five operations is a :class:`CrudViewSet`; its writes go through the
``perform_*`` hooks (or an overridden ``create``) to the services, and every refusal is an
``ApplicationError`` or a ``ValidationError``, which ``campaigns.api.errors`` maps to 4xx.
"""

from __future__ import annotations

from typing import Any

from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from campaigns.api.permissions import RolePermissions
from campaigns.secret_fields import lookup_reads_secret

# Up to 18 digits: always a valid bigint, so a huge id is a 404 from routing rather than an
# overflow in the database driver.
ID_REGEX = r"[0-9]{1,18}"


# Parameters whose value names fields (the conventions of DRF's and django-filter's backends).
ORDERING_PARAMS = ("ordering", "order_by", "sort", "o")


def refuse_secret_params(request: Request, model: Any) -> None:
    """A 400 for a query parameter that filters, orders or searches on a secret field.

    The filters are explicit serializers, so such a parameter does nothing today; refusing
    it keeps it so if a generic filter or ordering backend is ever added (``__all__``
    would otherwise answer ``?account__smpp_password__startswith=``).
    """
    for key, values in request.query_params.lists():
        names = [key]
        if key in ORDERING_PARAMS:
            names += [name.strip() for value in values for name in value.split(",")]
        if any(lookup_reads_secret(model, name) for name in names):
            message = "Secrets cannot be filtered, ordered or searched."
            raise serializers.ValidationError({key: [serializers.ErrorDetail(message, code="secret_field")]})


class ResourceViewSet(viewsets.GenericViewSet):
    # Base for the resource viewsets: model permissions for every method, numeric ids, no
    # query parameter on a secret (checked after the permissions: a 403 comes first).

    permission_classes = [RolePermissions]
    lookup_value_regex = ID_REGEX

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        refuse_secret_params(request, self.get_queryset().model)

    def validated(self, serializer_class: type[serializers.Serializer], **context: Any) -> dict[str, Any]:
        # The request body checked by ``serializer_class`` (a bad one is a 400 naming the
        # fields), with the view's serializer context plus ``context``.
        payload = serializer_class(data=self.request.data, context={**self.get_serializer_context(), **context})
        payload.is_valid(raise_exception=True)
        return payload.validated_data

    def respond(self, instance: Any, code: int = status.HTTP_200_OK) -> Response:
        # ``instance`` as this view's serializer shows it.
        return Response(self.get_serializer(instance).data, status=code)


class CrudViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ResourceViewSet,
):
    # List, create, read, change and delete; a subclass puts its service calls in the
    # ``perform_*`` hooks.
    pass


def query_filters(request: Request, serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
    """Validate query parameters with a serializer: a bad filter is a 400 with the field."""
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class FilteredListMixin:
    # ``list`` validates its query filters first (a bad one is a 400), then pages the
    # selector's result. Filtering happens in ``list`` rather than ``get_queryset`` because
    # the permission check calls ``get_queryset``: a bad filter must not answer before a
    # missing permission. (Comments, not docstrings: drf-spectacular publishes docstrings.)

    filters_class: type[serializers.Serializer]

    def filtered_queryset(self, filters: dict[str, Any]) -> Any:
        raise NotImplementedError

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # (no docstring: drf-spectacular would publish it as the operation's description)
        queryset = self.filtered_queryset(query_filters(request, self.filters_class))
        page = self.paginate_queryset(queryset)  # type: ignore[attr-defined]
        serializer = self.get_serializer(page, many=True)  # type: ignore[attr-defined]
        return self.get_paginated_response(serializer.data)  # type: ignore[attr-defined]
