"""The CSV import service: encodings, broken rows, duplicates, progress, and the row report."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.errors import ApplicationError
from campaigns.models import Contact
from campaigns.services.contacts_import import add_contacts, guess_mapping, import_contacts_csv
from tests.factories import ContactFactory, RecipientListFactory

pytestmark = pytest.mark.django_db

MAPPING = {"phone": "phone", "first_name": "first", "last_name": "last", "attributes": {"city": "city"}}


def _import(data: bytes, mapping: dict | None = None, **kwargs):
    lst = kwargs.pop("recipient_list", None) or RecipientListFactory()
    result = import_contacts_csv(recipient_list=lst, stream=io.BytesIO(data), mapping=mapping or MAPPING, **kwargs)
    return lst, result


def _report(result) -> list[list[str]]:
    return list(csv.reader(io.StringIO(result.report_bytes().decode("utf-8-sig"))))


def _contacts(lst) -> dict[str, tuple]:
    return {c.phone: (c.first_name, c.last_name, c.attributes) for c in Contact.objects.filter(recipient_list=lst)}


def test_good_rows_are_imported_with_names_and_attributes() -> None:
    data = b"phone,first,last,city\n+447911100001,Ann,Lee,Leeds\n+44 7911 100002,Bob,,York\n"
    lst, result = _import(data)
    assert (result.rows, result.imported, result.duplicates, result.rejected) == (2, 2, 0, 0)
    assert result.report_path is None
    assert _contacts(lst) == {
        "+447911100001": ("Ann", "Lee", {"city": "Leeds"}),
        "+447911100002": ("Bob", "", {"city": "York"}),
    }


def test_utf8_bom_and_semicolons_from_excel() -> None:
    data = "phone;first;last;city\r\n+447911100001;Zoë;Ñúñez;Málaga\r\n".encode("utf-8-sig")
    lst, result = _import(data)
    assert result.imported == 1
    assert _contacts(lst)["+447911100001"] == ("Zoë", "Ñúñez", {"city": "Málaga"})


def test_cp1252_file_is_detected() -> None:
    data = "phone,first,last,city\n+447911100001,René,O’Brien,Café €\n".encode("cp1252")
    lst, result = _import(data)
    assert _contacts(lst)["+447911100001"] == ("René", "O’Brien", {"city": "Café €"})


def test_latin1_bytes_undefined_in_cp1252_fall_back_to_latin1() -> None:
    data = b"phone,first,last,city\n+447911100001,A\x81b,x,y\n"
    lst, result = _import(data)
    assert _contacts(lst)["+447911100001"][0] == "A\x81b"


def test_utf16_with_bom_and_tabs() -> None:
    data = "phone\tfirst\tlast\tcity\n+447911100001\tAnn\tLee\tLeeds\n".encode("utf-16")
    lst, result = _import(data)
    assert _contacts(lst) == {"+447911100001": ("Ann", "Lee", {"city": "Leeds"})}


def test_a_stray_cp1252_byte_after_the_sniffed_block_does_not_fail_the_file() -> None:
    filler = "".join(f"+4479111{i:05d},Ann,Lee,Leeds\n" for i in range(3000)).encode()
    data = b"phone,first,last,city\n" + filler + b"+447911199999,Ren\xe9,x,y\n"
    assert len(data) > 64 * 1024
    lst, result = _import(data)
    assert result.imported == 3001
    assert _contacts(lst)["+447911199999"][0] == "René"


def test_broken_quoting_rejects_that_row_only() -> None:
    data = (
        b"phone,first,last,city\n"
        b'+447911100001,"Ann,Lee,Leeds\n'  # quote never closed
        b"+447911100002,Bob,Ray,York\n"
        b'+447911100003,"Cy"x,Day,Hull\n'  # text after a closing quote
        b'+447911100004,"Multi\nline",Eve,Bath\n'  # a legal quoted newline
    )
    lst, result = _import(data)
    assert set(_contacts(lst)) == {"+447911100002", "+447911100004"}
    assert _contacts(lst)["+447911100004"][0] == "Multi\nline"
    reasons = dict(result.rejected_rows)
    assert set(reasons) == {2, 4}
    assert reasons[2].startswith("broken quoting: a quoted field is never closed")
    assert reasons[4].startswith("broken quoting:")
    assert result.rows == 4


def test_an_unclosed_quote_in_the_middle_of_many_lines_costs_one_row() -> None:
    rows = [f"+4479111{i:05d},N{i},L,C\n" for i in range(50)]
    rows[10] = '+447911100010,"N10,L,C\n'
    lst, result = _import(b"phone,first,last,city\n" + "".join(rows).encode())
    assert result.imported == 49
    assert result.rejected_rows == [(12, result.rejected_rows[0][1])]


def test_missing_phone_column_fails_the_whole_import_with_the_columns_named() -> None:
    with pytest.raises(ApplicationError) as info:
        _import(b"mobile,first\n+447911100001,Ann\n", {"phone": "phone"})
    assert info.value.field == "mapping"
    assert "'mobile'" in info.value.message


def test_rejected_rows_have_their_reason_and_the_report_has_every_row_not_imported() -> None:
    existing = RecipientListFactory()
    ContactFactory(recipient_list=existing, phone="+447911100009")
    data = (
        b"phone,first,last,city\n"
        b"+447911100001,Ann,Lee,Leeds\n"
        b",NoPhone,x,y\n"
        b"+4477,Short,x,y\n"
        b"+447911100001,Again,x,y\n"
        b"+447911100009,Known,x,y\n"
        b"short-row\n"
    )
    lst, result = _import(data, recipient_list=existing)
    assert (result.rows, result.imported, result.duplicates, result.rejected) == (6, 1, 2, 3)
    reasons = dict(result.rejected_rows)
    assert reasons[3] == "missing phone"
    assert reasons[4].startswith("invalid number: ")
    assert reasons[7].startswith("invalid number: ")
    report = _report(result)
    assert report[0] == ["row", "reason", "phone", "first", "last", "city"]
    by_row = {int(r[0]): r for r in report[1:]}
    assert by_row[5][1] == "duplicate of row 2 in this file"
    assert by_row[6][1] == "duplicate: the number is already on the list"
    assert by_row[6][2:] == ["+447911100009", "Known", "x", "y"]
    assert set(by_row) == {3, 4, 5, 6, 7}
    result.discard_report()


def test_duplicates_across_chunks_are_counted_by_the_database() -> None:
    data = b"phone,first,last,city\n" + b"".join(f"+4479111000{i % 7:02d},N,L,C\n".encode() for i in range(30))
    lst, result = _import(data, chunk_rows=4)
    assert (result.imported, result.duplicates, result.rejected) == (7, 23, 0)
    assert Contact.objects.filter(recipient_list=lst).count() == 7


def test_one_percent_bad_rows_are_refused_and_the_rest_kept_with_progress_per_chunk() -> None:
    lines = []
    for i in range(1000):
        lines.append("+99912345,x,y,z\n" if i % 100 == 42 else f"+4479111{i:05d},N{i},L,C\n")
    seen: list[tuple[int, int]] = []
    lst, result = _import(
        b"phone,first,last,city\n" + "".join(lines).encode(),
        chunk_rows=250,
        progress=lambda r: seen.append((r.rows, r.imported)),
    )
    assert (result.rows, result.imported, result.rejected) == (1000, 990, 10)
    assert [row for row, _ in result.rejected_rows] == [44 + 100 * k for k in range(10)]
    assert all(reason.startswith("invalid number:") for _, reason in result.rejected_rows)
    assert seen[-1] == (1000, 990)
    assert len(seen) >= 4 and seen == sorted(seen)
    assert Contact.objects.filter(recipient_list=lst).count() == 990


def test_national_numbers_use_the_mapping_region() -> None:
    lst, result = _import(b"phone\n07911 100123\n", {"phone": "phone", "region": "GB"})
    assert set(_contacts(lst)) == {"+447911100123"}


def test_a_non_seekable_stream_is_read_in_one_pass() -> None:
    class OneWay(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._inner = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

        def readinto(self, buffer) -> int:
            chunk = self._inner.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    body = "".join(f"+4479111{i:05d},N{i},L,C\n" for i in range(5000)).encode()
    lst = RecipientListFactory()
    result = import_contacts_csv(recipient_list=lst, stream=OneWay(b"phone,first,last,city\n" + body), mapping=MAPPING)
    assert result.imported == 5000


def test_empty_file_is_refused() -> None:
    with pytest.raises(ApplicationError):
        _import(b"\n\n")


def test_add_contacts_as_data() -> None:
    lst = RecipientListFactory()
    result = add_contacts(
        recipient_list=lst,
        rows=[
            {"phone": "+447911100001", "first_name": "Ann", "attributes": {"tier": "gold"}},
            {"phone": "nope"},
            {"phone": "+447911100001"},
            {"phone": "+447911100002", "attributes": ["not", "a", "dict"]},
        ],
    )
    assert (result.rows, result.imported, result.duplicates, result.rejected) == (4, 1, 1, 2)
    assert [row for row, _ in result.rejected_rows] == [2, 4]
    assert Contact.objects.get(recipient_list=lst).attributes == {"tier": "gold"}


def test_guess_mapping() -> None:
    guess = guess_mapping(["Mobile Number", "First Name", "Surname", "Favourite colour"])
    assert guess == {
        "phone": "Mobile Number",
        "first_name": "First Name",
        "last_name": "Surname",
        "attributes": {"favourite_colour": "Favourite colour"},
    }


_names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00") | st.sampled_from(',"\n\r;'),
    max_size=30,
).map(str.strip)


@settings(max_examples=60, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(_names, _names), min_size=1, max_size=15), st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
def test_any_text_written_by_a_csv_writer_comes_back_unchanged(rows, encoding) -> None:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(["phone", "first", "last"])
    for i, (first, last) in enumerate(rows):
        writer.writerow([f"+4479111{i:05d}", first, last])
    mapping = {"phone": "phone", "first_name": "first", "last_name": "last"}
    lst, result = _import(out.getvalue().encode(encoding), mapping)
    assert (result.imported, result.rejected) == (len(rows), 0), result.rejected_rows
    got = {phone: (first, last) for phone, (first, last, _) in _contacts(lst).items()}
    assert got == {f"+4479111{i:05d}": (f.strip(), ln.strip()) for i, (f, ln) in enumerate(rows)}
