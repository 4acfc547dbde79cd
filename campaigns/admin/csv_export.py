"""CSV downloads that stream: a million rows leave as they are read, never held in memory."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from typing import Any

from django.http import StreamingHttpResponse


class Echo:
    """A file-like object whose write returns the line, for csv.writer in a streamed response."""

    def write(self, value: str) -> str:
        return value


_NUMBER = re.compile(r"[+-]?[0-9][0-9 ().-]*")


def cell(value: Any) -> Any:
    """A value safe to open in a spreadsheet: text that a spreadsheet would run as a formula
    (=, @, or + / - not followed by a number) gets a leading apostrophe. Phone numbers such
    as +447911123456 stay as they are."""
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, str) and value[:1] in ("=", "@", "+", "-", "\t", "\r") and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def stream_csv(header: tuple[str, ...], rows: Iterator[tuple], filename: str) -> StreamingHttpResponse:
    """A CSV streamed row by row (a UTF-8 BOM first, so Excel reads the accents right)."""
    writer = csv.writer(Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff" + writer.writerow(header)
        for row in rows:
            yield writer.writerow([cell(v) for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
