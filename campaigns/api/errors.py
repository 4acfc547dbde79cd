"""One JSON error envelope for every API failure, and the handler that produces it.

Clients get ``{"errors": [{"field": ..., "code": ..., "message": ...}]}`` for every 4xx,
whatever raised it: a serializer, a permission class, the parser, Django's request limits
or a service's :class:`~campaigns.errors.ApplicationError`. One shape means one code path
in every client, and ``field`` lets a form put the message next to the right input.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from campaigns.api.exceptions import Conflict, PayloadTooLarge
from campaigns.errors import ApplicationError

logger = logging.getLogger(__name__)

# Refusals caused by the current state of a resource, not by the shape of the request:
# the same request may succeed later (after a pause, a resume, an opt-in), so 409.
CONFLICT_CODES = frozenset(
    {"invalid_state", "idempotency_conflict", "nothing_to_do", "opted_out", "conflict", "approval_required"}
)
# Refusals of who asks, whatever the state: 403 (four eyes: approving one's own campaign).
FORBIDDEN_CODES = frozenset({"self_approval", "permission_denied"})


def error(field: str | None, code: str, message: str) -> dict[str, Any]:
    return {"field": field, "code": code, "message": message}


def envelope(*errors: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {"errors": list(errors)}


def flatten(detail: Any, field: str | None = None) -> Iterator[dict[str, Any]]:
    """DRF's nested error detail as a flat list, fields as dotted paths (``contacts.3.phone``)."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = None if key in (api_settings.NON_FIELD_ERRORS_KEY, "detail") else str(key)
            path = ".".join(p for p in (field, name) if p) or None
            yield from flatten(value, path)
    elif isinstance(detail, list):
        nested = any(isinstance(item, (dict, list)) for item in detail)
        for index, item in enumerate(detail):
            path = (f"{field}.{index}" if field else str(index)) if nested else field
            yield from flatten(item, path)
    else:
        yield error(field, getattr(detail, "code", None) or "invalid", str(detail))


def _as_api_exception(exc: Exception) -> exceptions.APIException | None:
    """Translate what Django and the domain raise into DRF exceptions (None: not ours)."""
    if isinstance(exc, ApplicationError):
        detail = {exc.field or api_settings.NON_FIELD_ERRORS_KEY: [exc.message]}
        if exc.code in FORBIDDEN_CODES:
            return exceptions.PermissionDenied(detail, code=exc.code)
        error_class = Conflict if exc.code in CONFLICT_CODES else exceptions.ValidationError
        return error_class(detail, code=exc.code)
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    if isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        return exceptions.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [str(exc)]}, code="too_many_fields")
    if isinstance(exc, SuspiciousOperation):
        return exceptions.ParseError("The request could not be read.")
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}
        return exceptions.ValidationError(detail)
    if isinstance(exc, IntegrityError):
        # A unique constraint lost a race that the serializer's check could not see.
        logger.warning("API request refused by a database constraint", exc_info=exc)
        return Conflict("The change conflicts with existing data (for example a duplicate).")
    if isinstance(exc, (UnicodeError, OverflowError)):
        # A value the parsers and serializers should have refused: answer 400, but log it.
        logger.warning("API request with a value that cannot be stored", exc_info=exc)
        return exceptions.ParseError("The request contains a value that cannot be stored.")
    return None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every known failure becomes the envelope; the rest stays a 500."""
    translated = _as_api_exception(exc)
    if translated is not None:
        exc = translated
        set_rollback()
    elif not isinstance(exc, exceptions.APIException):
        return None
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    response.data = envelope(*flatten(getattr(exc, "detail", str(exc))))
    return response


@csrf_exempt  # a JSON 404 for any method; there is nothing to protect
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Catch-all for unknown /api/v1/ paths: a JSON 404 instead of Django's HTML page."""
    message = "No such endpoint."
    if not request.path_info.endswith("/"):
        try:
            resolved = resolve(request.path_info + "/")
        except Resolver404:
            resolved = None
        if resolved is not None and resolved.func is not not_found:
            message = f"No such endpoint. Did you mean {request.path_info}/ (with a trailing slash)?"
    return JsonResponse(envelope(error(None, "not_found", message)), status=404)
