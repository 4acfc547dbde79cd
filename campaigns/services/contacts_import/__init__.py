"""Contacts into a recipient list: a CSV file streamed row by row, or rows given as data.

A marketer's file may hold a million rows, come out of Excel in cp1252 with a BOM, and have
a few broken lines. So the import never loads the file (a text wrapper over the binary
stream, one physical line at a time), refuses a bad *row* with its reason instead of the
whole file, and inserts in chunks of ~5000 with ``ON CONFLICT DO NOTHING``: the unique
(list, phone) constraint decides what is a duplicate, also against a concurrent import, and
the phones the database returns as inserted tell which rows were not. Nothing outlives a
chunk except counters and the report file, so memory stays flat whatever the file's size.

``phonenumbers.parse`` costs ~30 µs a number, more than everything else per row together;
numbers already written in E.164 take an exact fast path (:mod:`.phones`) instead.
"""

from campaigns.services.contacts_import.importer import ImportResult, RefusedRow, add_contacts, import_contacts_csv
from campaigns.services.contacts_import.mapping import attribute_key, guess_mapping, resolve_mapping
from campaigns.services.contacts_import.phones import check_phone, fast_e164
from campaigns.services.contacts_import.reader import open_csv

__all__ = [
    "ImportResult",
    "RefusedRow",
    "add_contacts",
    "attribute_key",
    "check_phone",
    "fast_e164",
    "guess_mapping",
    "import_contacts_csv",
    "open_csv",
    "resolve_mapping",
]
