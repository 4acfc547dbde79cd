"""What every resource view shares: role permissions, bounded ids, validated query filters."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from campaigns.api.permissions import RolePermissions

# Up to 18 digits: always a valid bigint, so a huge id is a 404 from routing rather than an
# overflow in the database driver.
ID_REGEX = r"[0-9]{1,18}"


class ResourceViewSet(viewsets.GenericViewSet):
    # Base for the resource viewsets: model permissions for every method, numeric ids.

    permission_classes = [RolePermissions]
    lookup_value_regex = ID_REGEX


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
