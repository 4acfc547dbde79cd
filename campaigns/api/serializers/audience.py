"""Recipient lists, contacts and opt-outs: shape and validation only."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from campaigns.api.errors import flatten
from campaigns.api.serializers.common import (
    MAX_ID,
    PhoneField,
    QueryIntegerField,
    StrictCharField,
    StrictModelSerializer,
    StrictPrimaryKeyRelatedField,
    StrictSerializer,
)
from campaigns.models import Account, Contact, OptOut, OptOutSource, RecipientList
from campaigns.services.contacts_import import RefusedRow
from campaigns.services.contacts_import.limits import (  # one set for every way in (API, CSV, admin)
    MAX_ATTRIBUTE_KEY,
    MAX_ATTRIBUTE_VALUE,
    MAX_ATTRIBUTES,
    NAME_MAX,
)


class RecipientListSerializer(StrictModelSerializer):
    contacts_count = serializers.SerializerMethodField(help_text="How many contacts the list holds.")

    class Meta:
        model = RecipientList
        fields = ["id", "name", "description", "contacts_count", "created_at"]
        read_only_fields = ["id", "contacts_count", "created_at"]
        extra_kwargs = {"description": {"max_length": 2000}}

    def get_contacts_count(self, recipient_list: RecipientList) -> int:
        # Annotated by the list selector; counted here only for a list just created or changed.
        count = getattr(recipient_list, "contacts_count", None)
        return recipient_list.contacts.count() if count is None else count


def validate_attributes(value: Any) -> dict[str, str | int | float | bool | None]:
    """Personalisation attributes: a flat object of short scalars (they end up in message text)."""
    if not isinstance(value, dict):
        raise serializers.ValidationError("Expected an object of name → value.", code="invalid")
    if len(value) > MAX_ATTRIBUTES:
        raise serializers.ValidationError(f"At most {MAX_ATTRIBUTES} attributes.", code="max_length")
    for key, item in value.items():
        if not key or len(key) > MAX_ATTRIBUTE_KEY:
            raise serializers.ValidationError(
                f"Attribute names are 1 to {MAX_ATTRIBUTE_KEY} characters.", code="invalid"
            )
        if item is not None and not isinstance(item, (str, int, float, bool)):
            raise serializers.ValidationError(f"Attribute {key!r} must be a text, number or boolean.", code="invalid")
        if isinstance(item, str) and len(item) > MAX_ATTRIBUTE_VALUE:
            raise serializers.ValidationError(
                f"Attribute {key!r} is longer than {MAX_ATTRIBUTE_VALUE} characters.", code="max_length"
            )
        if isinstance(item, int) and not isinstance(item, bool) and abs(item) > 2**53:
            raise serializers.ValidationError(f"Attribute {key!r} is too large a number.", code="max_value")
    return value


@extend_schema_field(
    {
        "type": "object",
        "maxProperties": MAX_ATTRIBUTES,
        "additionalProperties": {
            "anyOf": [{"type": "string", "maxLength": MAX_ATTRIBUTE_VALUE}, {"type": "number"}, {"type": "boolean"}],
            "nullable": True,
        },
        "example": {"city": "Leeds"},
    }
)
class AttributesField(serializers.JSONField):
    """A flat JSON object (documented as such, not as 'any')."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("validators", [validate_attributes])
        kwargs.setdefault("help_text", 'Extra fields for personalisation, e.g. {"city": "Leeds"}.')
        super().__init__(**kwargs)


class ContactSerializer(StrictModelSerializer):
    phone = PhoneField()
    attributes = AttributesField()

    class Meta:
        model = Contact
        fields = ["id", "recipient_list", "phone", "first_name", "last_name", "attributes", "created_at"]
        read_only_fields = ["id", "created_at"]


class ContactRowSerializer(StrictSerializer):
    """One row of a bulk add: the phone is checked by the import service, row by row."""

    phone = StrictCharField(max_length=64, allow_blank=True, help_text="Any common format.")
    first_name = StrictCharField(max_length=NAME_MAX, required=False, allow_blank=True, default="")
    last_name = StrictCharField(max_length=NAME_MAX, required=False, allow_blank=True, default="")
    attributes = AttributesField(default=dict)


MAX_BULK_CONTACTS = 1000


class ContactRowsField(serializers.ListField):
    """The rows of a bulk add, checked one by one: a bad row becomes a ``RefusedRow`` saying
    what is wrong with it (``first_name: Ensure this field has no more than 100
    characters.``) and the good rows are kept, as the CSV import does. Only a request that
    is not a list of 1 to 1000 rows is refused whole."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=ContactRowSerializer(), max_length=MAX_BULK_CONTACTS, allow_empty=False, **kwargs)

    def run_child_validation(self, data: list[Any]) -> list[dict[str, Any] | RefusedRow]:
        rows: list[dict[str, Any] | RefusedRow] = []
        for item in data:
            try:
                rows.append(self.child.run_validation(item))
            except serializers.ValidationError as exc:
                problems = [
                    f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in flatten(exc.detail)
                ]
                rows.append(RefusedRow("; ".join(problems)))
        return rows


class BulkContactsSerializer(StrictSerializer):
    contacts = ContactRowsField()


class ContactImportSerializer(StrictSerializer):
    """A CSV upload; without a mapping the columns are guessed from the header (phone, first_name, …)."""

    file = serializers.FileField(help_text="The CSV file (header row first; UTF-8, cp1252 or UTF-16).")
    mapping = serializers.JSONField(
        required=False,
        help_text=(
            'Which column feeds which field, as JSON: {"phone": "Mobile", "first_name": "First", '
            '"last_name": "Last", "attributes": {"city": "Town"}, "region": "GB"}. Omit to guess from the header.'
        ),
    )

    def validate_mapping(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise serializers.ValidationError("The mapping must be a JSON object.", code="invalid")
        return value


class RejectedRowSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Row number (the CSV header is row 1; bulk rows count from 1).")
    reason = serializers.CharField()


class ImportResultSerializer(serializers.Serializer):
    """What an import did: good rows are kept, refused ones listed with the reason."""

    rows = serializers.IntegerField(help_text="Rows read.")
    imported = serializers.IntegerField(help_text="Contacts added.")
    duplicates = serializers.IntegerField(help_text="Rows whose number was already on the list (or repeated).")
    rejected = serializers.IntegerField(help_text="Rows refused.")
    rejected_rows = RejectedRowSerializer(many=True, help_text="The first 1000 refused rows and why.")

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return {
            "rows": instance.rows,
            "imported": instance.imported,
            "duplicates": instance.duplicates,
            "rejected": instance.rejected,
            "rejected_rows": [{"row": row, "reason": reason} for row, reason in instance.rejected_rows],
        }


class OptOutSerializer(StrictModelSerializer):
    phone = PhoneField()
    account = StrictPrimaryKeyRelatedField(
        queryset=Account.objects.only("id"),
        allow_null=True,
        required=False,
        help_text="Only for this account; null blocks the number on every account.",
    )
    source = serializers.ChoiceField(choices=OptOutSource.choices, default=OptOutSource.API, required=False)

    class Meta:
        model = OptOut
        fields = ["id", "phone", "account", "source", "note", "created_at"]
        read_only_fields = ["id", "created_at"]
        # Adding is idempotent (the service returns the opt-out already recorded), so DRF's
        # validators for the two conditional unique constraints (which would also make
        # ``account`` required) are not wanted.
        validators: list = []


class OptOutUpdateSerializer(OptOutSerializer):
    """Only the note changes; to block another number, add a new opt-out (its pending messages are suppressed)."""

    phone = serializers.CharField(read_only=True)
    account = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    source = serializers.ChoiceField(choices=OptOutSource.choices, read_only=True)


class ContactFilters(serializers.Serializer):
    list = QueryIntegerField(required=False, min_value=1, max_value=MAX_ID, help_text="A recipient list id.")
    phone = PhoneField(required=False, allow_blank=True, help_text="A number, in any common format.")


class OptOutFilters(serializers.Serializer):
    account = QueryIntegerField(required=False, min_value=1, max_value=MAX_ID, help_text="An account id.")
    phone = PhoneField(required=False, allow_blank=True, help_text="A number, in any common format.")
