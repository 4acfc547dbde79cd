"""Request parsers that refuse what would otherwise reach the database as a 500.

DRF's JSONParser reads the whole stream whatever its size, honours any ``charset`` (an
unknown one is a LookupError, i.e. a 500), lets deep nesting blow the recursion limit, and
accepts lone surrogates and NUL characters that PostgreSQL then refuses to store. This
parser bounds the size, insists on UTF-8, and checks every string once, so serializers
only ever see storable data.
"""

from __future__ import annotations

import json
import math
from typing import Any

from django.http.multipartparser import MultiPartParserError
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from campaigns.api.exceptions import PayloadTooLarge

MAX_JSON_BYTES = 2 * 1024 * 1024
MAX_JSON_DEPTH = 32
MAX_UPLOAD_BYTES = 256 * 1024 * 1024


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number out of range: {text[:20]}")
    return value


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def check_storable(data: Any) -> None:
    """Raise ParseError for strings a database cannot store (NUL, lone surrogates) or deep nesting."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ParseError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.")
        if isinstance(value, str):
            _check_string(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                _check_string(key)
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)


def _check_string(text: str) -> None:
    if "\x00" in text:
        raise ParseError("Strings may not contain NUL characters.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ParseError("Strings must be valid Unicode (no lone surrogates).") from None


def _content_length(parser_context: dict[str, Any] | None) -> int:
    request = (parser_context or {}).get("request")
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
    except (TypeError, ValueError):
        return 0


class JSONParser(parsers.JSONParser):
    """UTF-8 JSON of at most MAX_JSON_BYTES, finite numbers, storable strings."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict[str, Any] | None = None) -> Any:
        if _content_length(parser_context) > MAX_JSON_BYTES:
            raise PayloadTooLarge(f"The JSON body is larger than {MAX_JSON_BYTES // 1024} KiB.")
        raw = stream.read(MAX_JSON_BYTES + 1) if stream is not None else b""
        if len(raw) > MAX_JSON_BYTES:
            raise PayloadTooLarge(f"The JSON body is larger than {MAX_JSON_BYTES // 1024} KiB.")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError("The JSON body is not valid UTF-8.") from None
        try:
            data = json.loads(text, parse_float=_finite_float, parse_constant=_reject_constant)
        except RecursionError:
            raise ParseError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.") from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        check_storable(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    """Multipart uploads (CSV files) up to MAX_UPLOAD_BYTES, spooled to disk by Django."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict[str, Any] | None = None) -> Any:
        if _content_length(parser_context) > MAX_UPLOAD_BYTES:
            raise PayloadTooLarge(f"The upload is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB.")
        try:
            result = super().parse(stream, media_type, parser_context)
        except (MultiPartParserError, UnicodeError, ValueError) as exc:
            raise ParseError(f"Multipart form parse error - {exc}") from None
        for key, values in result.data.lists():
            _check_string(key)
            for value in values:
                _check_string(value)
        return result
