"""Import a generated 1,000,000-row CSV (1 % bad rows) on PostgreSQL; print one JSON line.

    .venv/bin/python bench/import_csv.py [--rows 1000000]

The file is written first (phone, first name, last name, city; UK mobiles in E.164, every
100th row bad: an invalid number, a missing phone or a too-short one), then imported into an
empty list through the real service, ``import_contacts_csv``, as the Celery task does.
rows_per_s counts every data row read; peak_rss_mb is the process's peak resident set size
(Django included).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time

from _setup import drop_database, setup_django, use_bench_database

DB = "bench_import"
BAD = ("+44791", "", "+999123456789", "not a number")


def write_csv(path: str, rows: int) -> None:
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("Mobile,First name,Last name,City\n")
        for i in range(rows):
            phone = BAD[(i // 100) % len(BAD)] if i % 100 == 99 else f"+4479{i:08d}"
            out.write(f"{phone},Name{i},Surname{i % 997},City{i % 50}\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    use_bench_database(DB)
    setup_django()
    from django.utils import timezone

    from campaigns.models import Contact, RecipientList
    from campaigns.services.contacts_import import import_contacts_csv

    handle, path = tempfile.mkstemp(suffix=".csv")
    os.close(handle)
    try:
        write_csv(path, args.rows)
        lst = RecipientList.objects.create(name="bench")
        mapping = {"phone": "Mobile", "first_name": "First name", "last_name": "Last name", "attributes": ["City"]}
        started = time.perf_counter()
        with open(path, "rb") as stream:
            result = import_contacts_csv(recipient_list=lst, stream=stream, mapping=mapping)
        elapsed = time.perf_counter() - started
        result.discard_report()
        assert result.imported == Contact.objects.filter(recipient_list=lst).count()
    finally:
        os.unlink(path)
    print(
        json.dumps(
            {
                "rows": result.rows,
                "rows_per_s": round(result.rows / elapsed),
                "rejected": result.rejected,
                "imported": result.imported,
                "duplicates": result.duplicates,
                "seconds": round(elapsed, 2),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "loadavg_1m": round(os.getloadavg()[0], 2),
                "at": timezone.now().isoformat(timespec="seconds"),
            }
        )
    )
    if not args.keep:
        drop_database(DB)


if __name__ == "__main__":
    main()
