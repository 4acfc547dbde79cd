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

from django.db import models
from django.db.models import Model, QuerySet
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.utils import html

from campaigns.services.phones import InvalidPhoneNumber, normalise_phone

MAX_ID = 2**63 - 1


class StrictCharField(serializers.CharField):
    """A string, and only a string: DRF would quietly turn 42 or 1.5 into "42" and "1.5"."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        if self.max_length is not None and len(data) > self.max_length:
            # Measured before whitespace is trimmed, as the schema's maxLength is.
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer (or, in a query string or form, its digits): not "12" in JSON, not true."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or (isinstance(data, str) and not self._from_text()):
            self.fail("invalid")
        return super().to_internal_value(data)

    def _from_text(self) -> bool:
        # Query strings and multipart forms carry text; only JSON bodies have real numbers.
        return html.is_html_input(getattr(self.root, "initial_data", None))


class QueryParamMixin:
    """Query parameters as given: absent is absent, and present but empty (``?list=``) is
    an error. DRF's form handling would read the empty value as "no filter", and a missing
    boolean as false (which would quietly hide every test campaign)."""

    field_name: str

    def get_value(self, dictionary: Any) -> Any:
        return dictionary.get(self.field_name, empty)


class QueryIntegerField(QueryParamMixin, serializers.IntegerField):
    pass


class QueryBooleanField(QueryParamMixin, serializers.BooleanField):
    pass


class StrictDurationField(serializers.DurationField):
    """A duration written as text: DRF would read a bare number 5 as five seconds."""

    def to_internal_value(self, value: Any) -> Any:
        if not isinstance(value, str):
            self.fail("invalid", format="[DD] [HH:[MM:]]ss[.uuuuuu] or ISO 8601 (P1D)")
        return super().to_internal_value(value)


class StrictPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """An id as a JSON integer within bigint range (DRF would also take "12" and look it up)."""

    default_error_messages = {"incorrect_type": "Incorrect type. Expected an integer id, received {data_type}."}

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 1 <= data <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


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
    serializer_field_mapping = serializers.ModelSerializer.serializer_field_mapping | {
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.DurationField: StrictDurationField,
    }
    serializer_related_field = StrictPrimaryKeyRelatedField


class PhoneField(StrictCharField):
    """A phone number in any common format, stored as E.164; the error says what is wrong."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("help_text", "Phone number; stored in E.164 form, e.g. +447700900123.")
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        text = super().to_internal_value(data)
        if not text and self.allow_blank:
            return ""
        try:
            return normalise_phone(text)
        except InvalidPhoneNumber as exc:
            raise serializers.ValidationError(exc.message, code="invalid_phone") from None


class IdListField(serializers.ListField):
    """A list of primary keys of ``queryset``, bounded, resolved with one query."""

    def __init__(self, *, queryset: QuerySet, max_length: int = 100, **kwargs: Any) -> None:
        self.queryset = queryset
        super().__init__(child=StrictIntegerField(min_value=1, max_value=MAX_ID), max_length=max_length, **kwargs)

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
