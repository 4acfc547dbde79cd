"""What the frequency cap adds to materialisation, on PostgreSQL; print one JSON line.

    .venv/bin/python bench/frequency_cap.py [--recipients 200000] [--history 3]

The account has already sent ``history`` campaigns to every recipient in the last days
(so the message table holds recipients × history rows in the window); half of the
recipients were in all of them, the others in none. Then two campaigns to all of them are
materialised: one without a cap (``plain_s``) and one under a cap of ``history`` in 7 days
(``capped_s``), which suppresses that half. ``cap_step_s`` is the capping UPDATE alone.
"""

from __future__ import annotations

import argparse
import json
import time

from _setup import drop_database, setup_django, use_bench_database

DB = "bench_frequency_cap"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=200_000)
    parser.add_argument("--history", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    use_bench_database(DB)
    setup_django()
    from django.db import connection, transaction
    from django.utils import timezone

    from campaigns.models import Account, Campaign, Contact, Message, RecipientList
    from campaigns.services import frequency_cap
    from campaigns.services.materialise import materialise_recipients

    n, history = args.recipients, args.history
    account = Account.objects.create(name="bench", system_id="bench", smpp_password="pw")
    lst = RecipientList.objects.create(name="bench")
    contact, message = (connection.ops.quote_name(m._meta.db_table) for m in (Contact, Message))
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {contact} (recipient_list_id, phone, first_name, last_name, attributes, created_at) "
            f"SELECT %s, '+447' || lpad(g::text, 9, '0'), 'N' || g, '', '{{}}'::jsonb, now() "
            f"FROM generate_series(100000000, 100000000 + %s - 1) g",
            [lst.id, n],
        )
        for k in range(history):  # earlier campaigns to the even half, delivered
            earlier = Campaign.objects.create(name=f"earlier {k}", account=account, body="Hello", status="completed")
            cur.execute(
                f"INSERT INTO {message} (campaign_id, contact_id, phone, body, status, reason, segments, "
                f"recipient_tz, attempts, created_at, updated_at) "
                f"SELECT %s, c.id, c.phone, '', 'delivered', '', 1, '', 0, now() - interval '1 day', now() "
                f"FROM {contact} c WHERE c.recipient_list_id = %s AND c.id %% 2 = 0",
                [earlier.id, lst.id],
            )
        cur.execute("ANALYZE")

    def materialise(**account_fields: int | None) -> tuple[float, Campaign]:
        Account.objects.filter(id=account.id).update(**account_fields)
        campaign = Campaign.objects.create(name="timed", account=Account.objects.get(id=account.id), body="Hello")
        campaign.recipient_lists.add(lst)
        started = time.perf_counter()
        assert materialise_recipients(campaign=campaign) == n
        return time.perf_counter() - started, campaign

    plain_s, _ = materialise(frequency_cap=None, frequency_cap_days=None)
    capped_s, capped = materialise(frequency_cap=history, frequency_cap_days=7)
    suppressed = Message.objects.filter(campaign=capped, status="suppressed").count()
    # The capping step alone, again, on the same rows (rolled back).
    Message.objects.filter(campaign=capped).update(status="pending", reason="")
    with transaction.atomic():
        started = time.perf_counter()
        again = frequency_cap.apply_frequency_cap(campaign=capped, now=timezone.now())
        cap_step_s = time.perf_counter() - started
        transaction.set_rollback(True)
    assert again == suppressed
    print(
        json.dumps(
            {
                "recipients": n,
                "history_rows": Message.objects.filter(campaign__name__startswith="earlier").count(),
                "plain_s": round(plain_s, 3),
                "capped_s": round(capped_s, 3),
                "cap_step_s": round(cap_step_s, 3),
                "suppressed": suppressed,
                "at": timezone.now().isoformat(timespec="seconds"),
            }
        )
    )
    if not args.keep:
        drop_database(DB)


if __name__ == "__main__":
    main()
