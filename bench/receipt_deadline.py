"""The receipt deadline's settle on a big table: its plans and its cost; one JSON line.

    .venv/bin/python bench/receipt_deadline.py [--messages 1000000] [--campaigns 20] [--explain]

On PostgreSQL (BENCH_PG_URL, default the local server), a fresh database: one running
campaign of ``--messages`` single-part messages submitted over the last 10 hours, 1 in 33
still waiting for its receipt (accepted), the rest delivered; ``--campaigns`` more running
campaigns with nothing sent. Then ``settle_overdue_parts`` (every step rolled back after):

* idle_ms: nothing due (median of 50 calls; what every tick pays);
* trickle: a minute of deadlines due at once (a steady campaign's share per tick);
* backlog: every waiting message due (a deadline just lowered): one tick's batch.

``--explain`` prints the plans (EXPLAIN ANALYZE, BUFFERS) of the probe and of the UPDATE.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import timedelta

from _setup import drop_database, setup_django, use_bench_database

DB = "bench_receipt_deadline"


def populate(messages: int, campaigns: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from campaigns.models import Account, Campaign, Message, MessagePart

    account = Account.objects.create(name="dl", system_id="dlbench", smpp_password="x")
    now = timezone.now()
    big, *_ = (
        Campaign.objects.create(name=f"dl{i}", account=account, body="x", status="running", materialised_at=now)
        for i in range(campaigns + 1)
    )
    message, part = (connection.ops.quote_name(m._meta.db_table) for m in (Message, MessagePart))
    step_ms = 10 * 3600 * 1000 / messages
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {message} (campaign_id, phone, body, status, reason, segments, recipient_tz, attempts, "
            f"created_at, updated_at, submitted_at) SELECT %s, '+447' || lpad(g::text, 9, '0'), '', "
            f"CASE WHEN g %% 33 = 0 THEN 'accepted' ELSE 'delivered' END, '', 1, '', 0, now(), now(), "
            f"now() - g * %s * interval '1 millisecond' FROM generate_series(1, %s) g",
            [big.id, step_ms, messages],
        )
        cur.execute(
            f"INSERT INTO {part} (message_id, account_id, index, provider_message_id, status, error, attempts, "
            f"updated_at, submitted_at) SELECT id, %s, 1, 'd' || to_hex(id), status, '', 1, now(), submitted_at "
            f"FROM {message}",
            [account.id],
        )
        cur.execute("VACUUM ANALYZE")


def explain(now) -> None:  # noqa: ANN001 - a datetime
    """The plans of the probe and of the UPDATE, as ``settle_overdue_parts`` runs them."""
    from django.db import connection, transaction

    from campaigns.services import receipt_deadline as rd
    from campaigns.services import status
    from campaigns.services.bulk_sql import values_source

    analyse = "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "
    with transaction.atomic(), connection.cursor() as cur:
        campaigns = rd._owing_campaigns(now)
        sql, params, _ = rd.due_query(campaigns, now)
        cur.execute(analyse + sql, params)
        print("\n".join(row[0] for row in cur.fetchall()))
        due = rd._due_messages(campaigns, now)
        print(f"-- {len(due)} due, of {len(campaigns)} campaigns")
        if due:
            source, params = values_source([("message_id", "bigint"), ("reason", "text")], due)
            cur.execute(analyse + status.settle_sql(source), ["unknown", now, *params, "accepted"])
            print("\n".join(row[0] for row in cur.fetchall()))
        transaction.set_rollback(True)


def timed_settle(now) -> tuple[int, float]:  # noqa: ANN001 - a datetime
    from django.db import transaction

    from campaigns.services.receipt_deadline import settle_overdue_parts

    with transaction.atomic():
        started = time.perf_counter()
        settled = settle_overdue_parts(now=now)
        elapsed = (time.perf_counter() - started) * 1000
        transaction.set_rollback(True)
    return settled, elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--campaigns", type=int, default=20)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    use_bench_database(DB)
    setup_django()
    from django.utils import timezone

    from campaigns.models import Message
    from campaigns.services.receipt_deadline import SETTLE_BATCH, receipt_deadline

    populate(args.messages, args.campaigns)
    now = timezone.now()
    oldest_due = now + receipt_deadline() - timedelta(hours=10)  # the oldest submit is 10 h old
    cases = {"idle": now, "trickle": oldest_due + timedelta(minutes=1), "backlog": now + receipt_deadline()}
    if args.explain:
        waiting = Message.objects.filter(status="accepted").count()
        print(f"-- {waiting} messages waiting for a receipt; at most {SETTLE_BATCH} settled a tick")
        for name, at in cases.items():
            print(f"== {name}")
            explain(at)
    idle = [timed_settle(now)[1] for _ in range(50)]
    result: dict[str, object] = {"messages": args.messages, "campaigns": args.campaigns + 1}
    result["idle_ms"] = round(statistics.median(idle), 2)
    for name in ("trickle", "backlog"):
        settled, ms = timed_settle(cases[name])
        result[f"{name}_parts"] = settled
        result[f"{name}_ms"] = round(ms, 1)
    result["loadavg_1m"] = round(os.getloadavg()[0], 1)
    drop_database(DB)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
