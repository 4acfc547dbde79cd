"""The column mapping: which CSV column is the phone, the names, and the attributes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from campaigns.errors import ApplicationError
from campaigns.services.contacts_import.limits import MAX_ATTRIBUTES, attribute_name_problem

_GUESSES = {
    "phone": (
        "phone",
        "mobile",
        "msisdn",
        "number",
        "cell",
        "tel",
        "telephone",
        "phone_number",
        "mobile_number",
        "mobile_phone",
        "cellphone",
        "to",
    ),
    "first_name": ("first_name", "firstname", "first", "given_name", "forename", "name"),
    "last_name": ("last_name", "lastname", "last", "surname", "family_name"),
}


def attribute_key(column: str) -> str:
    """The personalisation variable a column becomes: ``Favourite colour`` → ``favourite_colour``."""
    key = re.sub(r"[^0-9a-z]+", "_", column.strip().lower()).strip("_")
    return f"_{key}" if key[:1].isdigit() else key or "column"


def guess_mapping(header: list[str]) -> dict[str, Any]:
    """A first guess for the mapping step: well-known column names, the rest as attributes."""
    mapping: dict[str, Any] = {"phone": None, "first_name": None, "last_name": None, "attributes": {}}
    for target, names in _GUESSES.items():
        mapping[target] = next((c for c in header if attribute_key(c) in names and c not in mapping.values()), None)
    used = {mapping["phone"], mapping["first_name"], mapping["last_name"]}
    mapping["attributes"] = {attribute_key(c): c for c in header if c and c not in used}
    return mapping


@dataclass(frozen=True)
class Columns:
    phone: int
    first_name: int | None
    last_name: int | None
    attributes: tuple[tuple[str, int], ...]
    region: str | None


def resolve_mapping(mapping: Mapping[str, Any], header: list[str]) -> Columns:
    """Column names (or 0-based indexes) → positions. ``attributes`` maps variable → column, or
    lists columns (the variable is then :func:`attribute_key` of the name)."""

    def position(target: str, column: Any, required: bool = False) -> int | None:
        if column in (None, ""):
            if required:
                raise ApplicationError("Choose the column that holds the phone numbers.", field="mapping")
            return None
        if isinstance(column, int) and not isinstance(column, bool) and 0 <= column < len(header):
            return column
        if isinstance(column, str) and column in header:
            return header.index(column)
        shown = ", ".join(repr(h) for h in header[:20])
        raise ApplicationError(
            f"The file has no column {column!r} (for {target}). Its columns: {shown}.",
            field="mapping",
            code="unknown_column",
        )

    if not isinstance(mapping, Mapping):
        raise ApplicationError("The mapping must be an object.", field="mapping")
    attributes = mapping.get("attributes") or {}
    if isinstance(attributes, list | tuple):
        attributes = {attribute_key(str(c)): c for c in attributes}
    if not isinstance(attributes, Mapping):
        raise ApplicationError("attributes must map variable names to columns.", field="mapping")
    if len(attributes) > MAX_ATTRIBUTES:
        raise ApplicationError(
            f"The mapping keeps {len(attributes)} columns as attributes; a contact holds at most "
            f"{MAX_ATTRIBUTES}: choose the columns to keep.",
            field="mapping",
            code="too_many_attributes",
        )
    for key in attributes:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(key)) or key in ("first_name", "last_name"):
            raise ApplicationError(f"{key!r} cannot be a variable name: use letters, digits and _.", field="mapping")
        problem = attribute_name_problem(key)
        if problem:
            raise ApplicationError(f"{problem[:1].upper()}{problem[1:]}.", field="mapping")
    region = mapping.get("region") or None
    if region is not None and (not isinstance(region, str) or not re.fullmatch(r"[A-Za-z]{2}", region)):
        raise ApplicationError("region must be a two-letter country code, e.g. GB.", field="mapping")
    return Columns(
        phone=position("phone", mapping.get("phone"), required=True),  # type: ignore[arg-type]
        first_name=position("first_name", mapping.get("first_name")),
        last_name=position("last_name", mapping.get("last_name")),
        attributes=tuple((str(k), position(str(k), c)) for k, c in attributes.items()),  # type: ignore[misc]
        region=region.upper() if region else None,
    )
