"""OpenAPI generation: every operation documents the error envelope it can return.

Clients (and schemathesis) read the schema as a contract, so the 4xx answers are listed
with their real body rather than left implicit; request bodies say
``additionalProperties: false`` because the serializers refuse unknown fields.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import OpenApiResponse

from campaigns.api.serializers.common import ErrorEnvelopeSerializer

_ERRORS = {
    "400": "Invalid input: each error names the field and the reason.",
    "401": "Not authenticated: send 'Authorization: Token <token>'.",
    "403": "Authenticated, but your role lacks the permission.",
    "404": "No such object, page or cursor.",
    "405": "Method not allowed on this path.",
}
_WRITE_ERRORS = {
    "409": "Refused by the current state (e.g. pausing a completed campaign, a reused Idempotency-Key).",
    "413": "The body is too large.",
    "415": "Unsupported Content-Type.",
}


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """``Authorization: Token <token>`` (knox's hashed tokens), as DRF's token scheme was."""

    target_class = "campaigns.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Token")


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus the documented error responses."""

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        errors = dict(_ERRORS)
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            errors |= _WRITE_ERRORS
        for code, description in errors.items():
            if code not in responses:
                response = OpenApiResponse(response=ErrorEnvelopeSerializer, description=description)
                responses[code] = self._get_response_for_code(response, code, direction=direction)
        return responses


def strict_request_bodies(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Postprocessing hook: request components allow no properties beyond those listed."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and component.get("type") == "object":
            component.setdefault("additionalProperties", False)
    return result


class ContactRowsFieldExtension(OpenApiSerializerFieldExtension):
    """The bulk add's rows: each should be a ContactRow, but a row that is not one is refused
    alone (listed in ``rejected_rows``), not the request; the schema says exactly that."""

    target_class = "campaigns.api.serializers.audience.ContactRowsField"

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        row = auto_schema._map_serializer_field(self.target.child, direction)
        return {
            "type": "array",
            "minItems": 1,
            "maxItems": self.target.max_length,
            "items": {"anyOf": [row, {}]},
            "description": "Contacts to add. A row that is not a valid ContactRow is refused alone, with the reason.",
        }
