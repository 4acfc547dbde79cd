"""Bounded CSV imports (issue 15, finding 4): a huge line or a row of countless fields costs
that row, never the worker's memory, and every import path keeps the API's per-contact limits."""

from __future__ import annotations

import io
import tracemalloc

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.errors import ApplicationError
from campaigns.models import Contact, ImportJobStatus
from campaigns.services.contacts_import import add_contacts, import_contacts_csv, open_csv
from campaigns.services.contacts_import.jobs import create_import_job
from campaigns.services.contacts_import.limits import MAX_ATTRIBUTE_VALUE, MAX_ATTRIBUTES, NAME_MAX
from campaigns.services.contacts_import.run import run_import_job
from tests.factories import RecipientListFactory

pytestmark = pytest.mark.django_db

MAPPING = {"phone": "phone", "first_name": "first", "attributes": {"city": "city"}}
HEADER = b"phone,first,city\n"


def _good(i: int) -> bytes:
    return f"+4479111{i:05d},N{i},Leeds\n".encode()


def _import(data: bytes, mapping: dict | None = None):
    lst = RecipientListFactory()
    return lst, import_contacts_csv(recipient_list=lst, stream=io.BytesIO(data), mapping=mapping or MAPPING)


def _phones(lst) -> set[str]:
    return set(Contact.objects.filter(recipient_list=lst).values_list("phone", flat=True))


def test_a_huge_line_costs_its_row_not_the_memory(settings) -> None:
    settings.IMPORT_MAX_LINE_CHARS = 64 * 1024
    huge = b"+447911100001," + b"x" * (6 * 1024 * 1024) + b",Leeds\n"  # a 6 MB row, no newline inside
    data = HEADER + _good(0) + huge + _good(2) + b'+447911100003,"' + b"y" * (300 * 1024) + b'",York\n' + _good(4)
    lst = RecipientListFactory()
    stream = io.BytesIO(data)
    tracemalloc.start()
    try:
        result = import_contacts_csv(recipient_list=lst, stream=stream, mapping=MAPPING)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 1024 * 1024, f"peak {peak} bytes while importing a 6 MB line"
    assert _phones(lst) == {"+447911100000", "+447911100002", "+447911100004"}
    reasons = dict(result.rejected_rows)
    assert set(reasons) == {3, 5}, reasons
    for row in (3, 5):
        assert "longer than 65536 characters" in reasons[row] and "IMPORT_MAX_LINE_CHARS" in reasons[row]
    assert result.rows == 5


def test_reading_stops_at_the_limit_and_resumes_at_the_next_line(settings) -> None:
    settings.IMPORT_MAX_LINE_CHARS = 100
    lines = [b"a" * 99 + b"\n", b"b" * 100 + b"\n", b"c" * 5000 + b"\r\n", b"d\r", b"e\n"]
    records = list(open_csv(io.BytesIO(b"h\n" + b"".join(lines))).records)
    assert [(row, fields is None) for row, fields, _ in records] == [
        (2, False),
        (3, True),
        (4, True),
        (5, False),
        (6, False),
    ]
    assert records[0][1] == ["a" * 99] and records[3][1] == ["d"] and records[4][1] == ["e"]


def test_a_header_longer_than_the_limit_refuses_the_file(settings) -> None:
    settings.IMPORT_MAX_LINE_CHARS = 1000
    with pytest.raises(ApplicationError) as info:
        _import(b"phone," + b"c" * 5000 + b"\n" + _good(0), {"phone": "phone"})
    assert "1000" in info.value.message and info.value.code == "header_too_long"


def test_a_row_of_too_many_fields_is_refused_alone(settings) -> None:
    settings.IMPORT_MAX_FIELDS = 60
    many = b"+447911100001" + b",v" * 5000 + b"\n"
    quoted = b'+447911100003,"q"' + b',"v"' * 100 + b"\n"
    lst, result = _import(HEADER + _good(0) + many + _good(2) + quoted + _good(4))
    assert _phones(lst) == {"+447911100000", "+447911100002", "+447911100004"}
    reasons = dict(result.rejected_rows)
    assert set(reasons) == {3, 5}
    assert "5001 fields" in reasons[3] and "IMPORT_MAX_FIELDS (60)" in reasons[3]
    assert "102 fields" in reasons[5]


def test_a_header_of_too_many_columns_refuses_the_file(settings) -> None:
    settings.IMPORT_MAX_FIELDS = 10
    with pytest.raises(ApplicationError) as info:
        _import(b"phone," + b",".join(b"c%d" % i for i in range(20)) + b"\n" + _good(0), {"phone": "phone"})
    assert "21 columns" in info.value.message and info.value.code == "too_many_columns"


def test_the_api_per_contact_limits_apply_to_csv_rows() -> None:
    long_city = "L" * (MAX_ATTRIBUTE_VALUE + 1)
    long_name = "N" * (NAME_MAX + 1)
    longest_ok = "L" * MAX_ATTRIBUTE_VALUE
    data = HEADER + _good(0) + f"+447911100001,Ann,{long_city}\n".encode() + _good(2)
    data += f"+447911100003,{long_name},York\n+447911100004,Bo,{longest_ok}\n".encode()
    lst, result = _import(data)
    assert _phones(lst) == {"+447911100000", "+447911100002", "+447911100004"}
    reasons = dict(result.rejected_rows)
    assert reasons[3] == f"column 'city' (attribute city) is longer than {MAX_ATTRIBUTE_VALUE} characters"
    assert reasons[5] == f"the first name is longer than {NAME_MAX} characters"


def test_a_mapping_of_more_attributes_than_a_contact_holds_is_refused() -> None:
    columns = [f"c{i}" for i in range(MAX_ATTRIBUTES + 1)]
    data = ("phone," + ",".join(columns) + "\n+447911100001" + ",x" * len(columns) + "\n").encode()
    with pytest.raises(ApplicationError) as info:
        _import(data, {"phone": "phone", "attributes": columns})
    assert f"at most {MAX_ATTRIBUTES}" in info.value.message and info.value.field == "mapping"
    with pytest.raises(ApplicationError) as info:
        _import(b"phone,c\n+447911100001,x\n", {"phone": "phone", "attributes": {"a" * 65: "c"}})
    assert "1 to 64 characters" in info.value.message


def test_bulk_add_as_data_keeps_the_same_limits() -> None:
    lst = RecipientListFactory()
    rows = [
        {"phone": "+447911100001", "attributes": {f"k{i}": i for i in range(MAX_ATTRIBUTES + 1)}},
        {"phone": "+447911100002", "first_name": "N" * (NAME_MAX + 1)},
        {"phone": "+447911100003", "attributes": {"city": "L" * (MAX_ATTRIBUTE_VALUE + 1)}},
        {"phone": "+447911100004", "first_name": "Ann", "attributes": {"city": "Leeds"}},
    ]
    result = add_contacts(recipient_list=lst, rows=rows)
    assert _phones(lst) == {"+447911100004"}
    assert [row for row, _ in result.rejected_rows] == [1, 2, 3]


def test_the_import_job_path_is_bounded_too(settings) -> None:
    settings.IMPORT_MAX_LINE_CHARS = 1000
    data = HEADER + _good(0) + b"+447911100001," + b"x" * 50_000 + b"\n" + _good(2)
    job = create_import_job(recipient_list=RecipientListFactory(), upload=SimpleUploadedFile("c.csv", data))
    job.mapping = MAPPING
    job.save()
    result = run_import_job(job=job)
    job.refresh_from_db()
    assert job.status == ImportJobStatus.DONE
    assert (job.rows_total, job.imported, job.rejected) == (3, 2, 1)
    assert result is not None and "longer than 1000 characters" in result.rejected_rows[0][1]
