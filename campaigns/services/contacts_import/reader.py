"""Reading a CSV file as a stream of records, whatever Excel or a CRM made of it.

The encoding is sniffed on the first 64 KiB (BOM, UTF-8, cp1252, else latin-1), the
delimiter on the header line (, ; tab |). Records come one physical line at a time, so a
million-row file costs the memory of one row; a broken quote costs one refused row, not
the file. A line is read to at most ``IMPORT_MAX_LINE_CHARS`` characters: a longer one is
read past in small pieces, never held, and refused as its row; a row of more than
``IMPORT_MAX_FIELDS`` fields is refused before it is split. ``csv.field_size_limit`` is
process-wide and left alone: it only matters when the line limit is set above it.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from campaigns.errors import ApplicationError
from campaigns.services.contacts_import.limits import ReadLimits

SNIFF_BYTES = 64 * 1024
MAX_RECORD_LINES = 20  # a quoted field may span lines, but not this many: the quote is broken
SKIP_CHARS = 8192  # an over-long line is read past in pieces of this size


def _fallback_cp1252(error: UnicodeError) -> tuple[str, int]:
    """A stray non-UTF-8 byte after the sniffed block (files merged from two sources) is
    read as cp1252 rather than failing the import or turning into U+FFFD."""
    assert isinstance(error, UnicodeDecodeError)
    chunk = error.object[error.start : error.end]
    return chunk.decode("cp1252", errors="replace"), error.end


codecs.register_error("campaigns-cp1252", _fallback_cp1252)


def detect_encoding(block: bytes) -> str:
    """utf-8-sig / utf-16 by their BOM, else utf-8 if the block decodes, else cp1252 if it
    does, else latin-1 (which decodes anything)."""
    if block.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if block.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in ("utf-8", "cp1252"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(block, final=False)
            return encoding
        except UnicodeDecodeError:
            continue
    return "latin-1"


class _Prefixed(io.RawIOBase):
    """A non-seekable stream with its sniffed first block put back in front."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head, self._rest = head, rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n], self._head = self._head[:n], self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


@dataclass
class CsvFile:
    """An open CSV: its encoding, delimiter, header, and an iterator of (row number, fields
    or None, text). ``fields`` is None for a row that cannot be read; ``text`` then says why."""

    encoding: str
    delimiter: str
    header: list[str]
    records: Iterator[tuple[int, list[str] | None, str]]


def _sniff_delimiter(line: str) -> str:
    counts = {d: line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


TOO_LONG = ""  # stands for a line longer than the limit: no real line is empty (each has its break)


def _bounded_lines(text: IO[str], limit: int) -> Iterator[str]:
    """Physical lines of at most ``limit`` characters, line break included; a longer line is
    read past in pieces of SKIP_CHARS and comes as TOO_LONG, so memory stays bounded."""
    readline, size = text.readline, limit + 1
    after_cr = False
    while True:
        line = readline(size)
        if after_cr:
            after_cr = False
            if line == "\n":  # the rest of a skipped line's "\r\n", cut between two reads
                continue
        if not line:
            return
        if len(line) < size:
            yield line
            continue
        while line and not line.endswith(("\n", "\r")):
            line = readline(SKIP_CHARS)
        after_cr = line.endswith("\r")
        yield TOO_LONG


def open_csv(stream: IO[bytes], limits: ReadLimits | None = None) -> CsvFile:
    """Open a binary CSV stream for reading record by record (nothing beyond one bounded
    record and the text buffer is held). Raises ApplicationError for an empty file, or a
    header that is too long or too wide (no row could be read against it)."""
    limits = limits or ReadLimits.from_settings()
    head = stream.read(SNIFF_BYTES)
    if hasattr(stream, "seekable") and stream.seekable():
        stream.seek(0)
        raw: IO[bytes] = stream
    else:
        raw = io.BufferedReader(_Prefixed(head, stream))
    encoding = detect_encoding(head)
    text = io.TextIOWrapper(raw, encoding=encoding, errors="campaigns-cp1252", newline="")  # type: ignore[arg-type]
    lines = _bounded_lines(text, limits.line_chars)
    first = next(lines, None)
    while first and not first.strip():
        first = next(lines, None)
    if first == TOO_LONG:
        raise ApplicationError(
            f"The header row is longer than {limits.line_chars} characters (IMPORT_MAX_LINE_CHARS).",
            field="file",
            code="header_too_long",
        )
    if first is None:
        raise ApplicationError("The file is empty.", field="file", code="empty_file")
    delimiter = _sniff_delimiter(first)
    try:
        header = next(csv.reader([first], delimiter=delimiter))
    except csv.Error:
        raise ApplicationError("The header row cannot be read.", field="file", code="bad_header") from None
    if len(header) > limits.fields:
        raise ApplicationError(
            f"The header has {len(header)} columns, more than IMPORT_MAX_FIELDS ({limits.fields}).",
            field="file",
            code="too_many_columns",
        )
    header = [h.strip().lstrip("\ufeff") for h in header]
    return CsvFile(encoding, delimiter, header, _records(lines, delimiter, limits))


def _broken(first_line: str) -> str:
    return f"broken quoting: a quoted field is never closed ({first_line.rstrip()[:80]!r})"


def _records(lines: Iterator[str], delimiter: str, limits: ReadLimits) -> Iterator[tuple[int, list[str] | None, str]]:
    """Records from physical lines. A line without quotes is split directly (the common,
    fast case); one with quotes goes through ``csv`` in strict mode, taking more lines while
    a quoted field is open. A quote still open after MAX_RECORD_LINES lines, after the line
    limit's worth of characters, at a line too long to read, or at the end of the file
    refuses just its first line, and reading resumes at the line after it. A line too long
    or a row of too many fields is refused alone. Blank lines are skipped but counted, so
    row numbers match what a spreadsheet shows."""
    row = 1
    pending: list[str] = []
    pending_chars = 0
    backlog: list[str] = []  # lines to read again, last first
    while True:
        line = backlog.pop() if backlog else next(lines, None)
        if not line:  # None: the end of the file; TOO_LONG: a line too long to read
            if pending:  # an open quote met the end of the file or an unreadable line
                row += 1
                yield row, None, _broken(pending[0])
                backlog = [*([] if line is None else [line]), *pending[:0:-1]]
                pending, pending_chars = [], 0
                continue
            if line is None:
                return
            row += 1
            yield row, None, limits.line_too_long()
            continue
        if "\x00" in line:
            line = line.replace("\x00", "")
        if not pending and '"' not in line:
            row += 1
            if line.strip():
                separators = line.count(delimiter)
                if separators >= limits.fields:
                    yield row, None, limits.too_many_fields(separators + 1)
                else:
                    yield row, line.rstrip("\r\n").split(delimiter), ""
            continue
        pending.append(line)
        pending_chars += len(line)
        try:
            fields = next(csv.reader(pending, delimiter=delimiter, strict=True), [])
        except csv.Error as exc:
            unterminated = str(exc) == "unexpected end of data"
            if unterminated and len(pending) < MAX_RECORD_LINES and pending_chars <= limits.line_chars:
                continue
            row += 1
            if unterminated or len(pending) > 1:  # the first line's quote swallowed the next lines
                yield row, None, _broken(pending[0])
                backlog = pending[:0:-1]
            elif str(exc).startswith("field larger than field limit"):
                yield row, None, f"a quoted field is longer than {csv.field_size_limit()} characters"
            else:
                yield row, None, f"broken quoting: {exc}"
            pending, pending_chars = [], 0
            continue
        pending, pending_chars = [], 0
        row += 1
        if len(fields) > limits.fields:
            yield row, None, limits.too_many_fields(len(fields))
        elif any(f.strip() for f in fields):
            yield row, fields, ""
