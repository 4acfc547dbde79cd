"""What one contact may hold, and what one CSV line may cost, whichever way it arrives.

The API's serializers, the CSV upload, the admin's import and its worker all apply these:
a contact is a phone, two names of at most 100 characters and at most 50 attributes of at
most 500 characters (they end up in message text). The reading limits bound the memory of
one line, so a file of one 200 MB line (or of a million commas) costs one refused row, not
a worker; they are settings (``IMPORT_MAX_LINE_CHARS``, ``IMPORT_MAX_FIELDS``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings

MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_KEY = 64
MAX_ATTRIBUTE_VALUE = 500
NAME_MAX = 100  # Contact.first_name / last_name


@dataclass(frozen=True)
class ReadLimits:
    """How much of a CSV one line may be: characters (its line break included) and fields."""

    line_chars: int
    fields: int

    @classmethod
    def from_settings(cls) -> ReadLimits:
        return cls(
            line_chars=max(1, settings.IMPORT_MAX_LINE_CHARS),
            fields=max(1, settings.IMPORT_MAX_FIELDS),
        )

    def line_too_long(self) -> str:
        return f"the line is longer than {self.line_chars} characters (IMPORT_MAX_LINE_CHARS): not read"

    def too_many_fields(self, count: int) -> str:
        return f"the row has {count} fields, more than IMPORT_MAX_FIELDS ({self.fields})"


def names_problem(first: str, last: str) -> str | None:
    """Why these names cannot be a contact's, or None."""
    for label, value in (("first name", first), ("last name", last)):
        if len(value) > NAME_MAX:
            return f"the {label} is longer than {NAME_MAX} characters"
    return None


def attribute_name_problem(key: Any) -> str | None:
    """Why ``key`` cannot name an attribute (length only; the mapping checks its spelling)."""
    if not key or len(str(key)) > MAX_ATTRIBUTE_KEY:
        return f"attribute names are 1 to {MAX_ATTRIBUTE_KEY} characters, not {str(key)[:80]!r}"
    return None


def attributes_problem(attributes: Mapping[str, Any]) -> str | None:
    """Why these attributes cannot be a contact's (count, name length, text length), or None."""
    if len(attributes) > MAX_ATTRIBUTES:
        return f"{len(attributes)} attributes, at most {MAX_ATTRIBUTES}"
    for key, value in attributes.items():
        problem = attribute_name_problem(key)
        if problem:
            return problem
        if isinstance(value, str) and len(value) > MAX_ATTRIBUTE_VALUE:
            return f"attribute {str(key)!r} is longer than {MAX_ATTRIBUTE_VALUE} characters"
    return None
