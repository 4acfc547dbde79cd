"""Materialise a campaign of 1,000,000 recipients on PostgreSQL; print one JSON line.

    .venv/bin/python bench/fanout.py [--recipients 1000000]

raw_sql_s is a bare INSERT … SELECT of the same rows (no opt-out join, no checks) into the
same table in the same run; ratio = materialise_s / raw_sql_s. Peak RSS is the process's.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

from _setup import drop_database, setup_django, use_bench_database

DB = "bench_fanout"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    use_bench_database(DB)
    setup_django()
    from django.db import connection
    from django.utils import timezone

    from campaigns.models import Account, Campaign, Contact, Message, OptOut, RecipientList
    from campaigns.services.materialise import materialise_recipients

    n = args.recipients
    account = Account.objects.create(name="bench", system_id="bench", smpp_password="pw")
    lst = RecipientList.objects.create(name="bench")
    contact, optout, message = (connection.ops.quote_name(m._meta.db_table) for m in (Contact, OptOut, Message))
    with connection.cursor() as cur:
        # 1,000,000 valid UK mobile numbers; 1 % of them opted out.
        cur.execute(
            f"INSERT INTO {contact} (recipient_list_id, phone, first_name, last_name, attributes, created_at) "
            f"SELECT %s, '+447' || lpad(g::text, 9, '0'), 'N' || g, '', '{{}}'::jsonb, now() "
            f"FROM generate_series(100000000, 100000000 + %s - 1) g",
            [lst.id, n],
        )
        cur.execute(
            f"INSERT INTO {optout} (phone, account_id, source, note, created_at) "
            f"SELECT phone, NULL, 'manual', '', now() FROM {contact} WHERE id % 100 = 0"
        )
        cur.execute("ANALYZE")
    raw = Campaign.objects.create(name="raw", account=account, body="Hello")
    timed = Campaign.objects.create(name="timed", account=account, body="Hello {{ first_name }}")
    timed.recipient_lists.add(lst)

    def bare_insert(campaign_id: int) -> float:
        started = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {message} (campaign_id, contact_id, phone, body, status, reason, segments, "
                f"recipient_tz, attempts, created_at, updated_at) "
                f"SELECT %s, c.id, c.phone, '', 'pending', '', 1, '', 0, now(), now() "
                f"FROM {contact} c WHERE c.recipient_list_id = %s",
                [campaign_id, lst.id],
            )
        return time.perf_counter() - started

    # Bare insert before and after: the faster of the two is the baseline (cache warm-up
    # and table growth then favour the baseline, not the code under test).
    raw_first = bare_insert(raw.id)
    started = time.perf_counter()
    created = materialise_recipients(campaign=timed)
    materialise_s = time.perf_counter() - started
    raw_again = Campaign.objects.create(name="raw2", account=account, body="Hello")
    raw_sql_s = min(raw_first, bare_insert(raw_again.id))
    suppressed = Message.objects.filter(campaign=timed, status="suppressed").count()
    assert created == n, (created, n)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "recipients": n,
                "raw_sql_s": round(raw_sql_s, 3),
                "materialise_s": round(materialise_s, 3),
                "ratio": round(materialise_s / raw_sql_s, 3),
                "suppressed": suppressed,
                "peak_rss_mb": round(peak_mb, 1),
                "at": timezone.now().isoformat(timespec="seconds"),
            }
        )
    )
    if not args.keep:
        drop_database(DB)


if __name__ == "__main__":
    main()
