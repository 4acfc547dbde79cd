"""Building blocks shared by the resource serializers.

- :class:`StrictMixin` refuses unknown fields: a typo such as ``shedule_at`` must be an
  error, not a silently ignored key.
- :class:`PhoneField` stores E.164 and reports *why* a number is invalid.
- :class:`IdListField` takes a bounded list of ids and resolves them in one query (DRF's
  many-related field would run one query per id, for any number of ids).
- The error envelope serializers exist only to document the error responses.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Model, QuerySet
from rest_framework import serializers

from campaigns.services.phones import InvalidPhoneNumber, normalise_phone

MAX_ID = 2**63 - 1


class StrictMixin:
    # Rejects keys the serializer does not know (read-only ones included: they cannot be
    # set). A comment, not a docstring: drf-spectacular would show a docstring to clients.

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}  # type: ignore[attr-defined]
            unknown = sorted(str(key) for key in data if key not in writable)
            if unknown:
                raise serializers.ValidationError(
                    {
                        key: [serializers.ErrorDetail("Unknown or read-only field.", code="unknown_field")]
                        for key in unknown
                    }
                )
        return super().to_internal_value(data)  # type: ignore[misc]


class StrictSerializer(StrictMixin, serializers.Serializer):
    pass


class StrictModelSerializer(StrictMixin, serializers.ModelSerializer):
    pass


class PhoneField(serializers.CharField):
    """A phone number in any common format, stored as E.164; the error says what is wrong."""

    default_error_messages = {"invalid_phone": "{message}"}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("help_text", "Phone number; stored in E.164 form, e.g. +447700900123.")
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        text = super().to_internal_value(data)
        try:
            return normalise_phone(text)
        except InvalidPhoneNumber as exc:
            raise serializers.ValidationError(exc.message, code="invalid_phone") from None


class IdListField(serializers.ListField):
    """A list of primary keys of ``queryset``, bounded, resolved with one query."""

    def __init__(self, *, queryset: QuerySet, max_length: int = 100, **kwargs: Any) -> None:
        self.queryset = queryset
        super().__init__(child=serializers.IntegerField(min_value=1, max_value=MAX_ID), max_length=max_length, **kwargs)

    def to_internal_value(self, data: Any) -> list[Model]:
        ids = list(dict.fromkeys(super().to_internal_value(data)))
        found = {obj.pk: obj for obj in self.queryset.filter(pk__in=ids)}
        missing = [i for i in ids if i not in found]
        if missing:
            raise serializers.ValidationError(
                f"No such id: {', '.join(map(str, missing[:10]))}.", code="does_not_exist"
            )
        return [found[i] for i in ids]

    def to_representation(self, data: Any) -> list[int]:
        items: Iterable[Any] = data.all() if hasattr(data, "all") else data
        return sorted(item.pk for item in items)


class ErrorSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True, help_text="The input at fault (dotted for nested), or null.")
    code = serializers.CharField(help_text="A stable machine-readable code, e.g. invalid_phone, not_found.")
    message = serializers.CharField(help_text="What is wrong, in words.")


class ErrorEnvelopeSerializer(serializers.Serializer):
    errors = ErrorSerializer(many=True)
