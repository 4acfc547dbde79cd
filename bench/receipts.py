"""Receipts through the real path: simulator → receiver bind → inbox → apply; one JSON line.

    .venv/bin/python bench/receipts.py [--apply-count 100000] [--rate 1000] [--seconds 10]

On PostgreSQL (BENCH_PG_URL, default the local server):
* applied_per_s: the apply step alone: ``--apply-count`` pending receipts matching
  accepted parts are put in the inbox, then ``apply_receipts`` runs until none is left;
* receipts, p50_ms, p99_ms: the simulator sends ``--rate`` receipts a second for
  ``--seconds`` to a receiver process (``manage.py smpp_receiver``, one RX bind, group
  commit), while an ``apply_receipts`` loop process applies them; latency runs from the
  simulator sending the receipt to the part's status change (``done_at``) in the database.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _setup import drop_database, setup_django, use_bench_database

DB = "bench_receipts"
SYSTEM_ID, PASSWORD = "rbench", "rbenchpw"


def make_parts(n: int, account_id: int) -> None:
    """n accepted single-part messages with provider ids 'b<hex>' (set-based SQL)."""
    from django.db import connection

    from campaigns.models import Account, Campaign, Message, MessagePart

    account = Account.objects.get(id=account_id)
    campaign = Campaign.objects.create(name=f"rb{time.time_ns()}", account=account, body="x", status="running")
    message, part = (connection.ops.quote_name(m._meta.db_table) for m in (Message, MessagePart))
    with connection.cursor() as cur:
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM " + message)
        base = cur.fetchone()[0]
        cur.execute(
            f"INSERT INTO {message} (campaign_id, phone, body, status, reason, segments, recipient_tz, attempts, "
            f"created_at, updated_at) SELECT %s, '+447' || lpad(g::text, 9, '0'), '', 'accepted', '', 1, '', 0, "
            f"now(), now() FROM generate_series(1, %s) g",
            [campaign.id, n],
        )
        cur.execute(
            f"INSERT INTO {part} (message_id, account_id, index, provider_message_id, status, error, attempts, "
            f"updated_at) SELECT id, %s, 1, 'b' || to_hex(id), 'accepted', '', 1, now() FROM {message} "
            f"WHERE campaign_id = %s",
            [account_id, campaign.id],
        )
    return base


def apply_throughput(n: int, account_id: int) -> float:
    from django.db import connection

    from campaigns.models import MessagePart, Receipt
    from campaigns.services.receipts import apply_receipts

    make_parts(n, account_id)
    receipt, part = (connection.ops.quote_name(m._meta.db_table) for m in (Receipt, MessagePart))
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {receipt} (account_id, provider_message_id, stat, status, err, raw, channel, "
            f"received_at, state, msisdn) SELECT account_id, provider_message_id, 'DELIVRD', 'delivered', '000', "
            f"'id:x stat:DELIVRD', 'smpp', now(), 'pending', '' FROM {part} WHERE account_id = %s "
            f"AND status = 'accepted'",
            [account_id],
        )
        cur.execute("ANALYZE")
    started = time.perf_counter()
    total = 0
    while True:
        applied = apply_receipts(limit=10000)
        total += applied
        if applied == 0:
            break
    elapsed = time.perf_counter() - started
    assert total == n, (total, n)
    return n / elapsed


def latency(rate: float, seconds: float, account, tmp: Path) -> dict:
    from campaigns.models import MessagePart
    from smpp_transport.smsc import SimulatorConfig, SimulatorThread
    from tests.e2e.harness import Platform, wait_until

    n = int(rate * seconds)
    make_parts(n, account.id)
    parts = list(
        MessagePart.objects.filter(account=account, status="accepted").values_list("id", "provider_message_id")[:n]
    )
    sim = SimulatorThread(
        SimulatorConfig(host="127.0.0.1", port=0, accounts={SYSTEM_ID: PASSWORD}, rate_per_bind=0, record_submits=False)
    ).start()
    account.smpp_port = sim.port
    account.save()
    platform = Platform(tmp, extra_env={"LOG_LEVEL": "WARNING"})
    sent_at: dict[int, float] = {}
    try:
        platform.start("receiver", [sys.executable, "manage.py", "smpp_receiver", "--system-id", SYSTEM_ID])
        platform.start("applier", [sys.executable, "manage.py", "apply_receipts"])
        assert sim.wait_for_binds(1, timeout=60)
        t0 = time.monotonic()
        for k, (part_id, provider_id) in enumerate(parts):
            deadline = t0 + k / rate
            pause = deadline - time.monotonic()
            if pause > 0:
                time.sleep(pause)  # pacing the load generator, not synchronisation
            sent_at[part_id] = time.time()
            # Ids are hex without the 'b' prefix the parts carry? No: send the exact id.
            sim.send_receipt(SYSTEM_ID, provider_id, stat="DELIVRD")
        wait_until(
            lambda: MessagePart.objects.filter(id__in=list(sent_at), status="delivered").count() == n,
            timeout=120,
            interval=0.5,
            what="all receipts applied",
        )
    finally:
        platform.stop()
        sim.stop()
    done = dict(MessagePart.objects.filter(id__in=list(sent_at)).values_list("id", "done_at"))
    lat = sorted((done[pid].timestamp() - t) * 1000 for pid, t in sent_at.items())
    from campaigns.models import Receipt

    stored = dict(Receipt.objects.filter(part_id__in=list(sent_at)).values_list("part_id", "received_at"))
    inbox = sorted((stored[pid].timestamp() - t) * 1000 for pid, t in sent_at.items() if pid in stored)
    return {
        "receipts": n,
        "rate": rate,
        "p50_ms": round(statistics.median(lat), 1),
        "p99_ms": round(lat[int(len(lat) * 0.99) - 1], 1),
        "max_ms": round(lat[-1], 1),
        "inbox_p50_ms": round(statistics.median(inbox), 1),
        "inbox_p99_ms": round(inbox[int(len(inbox) * 0.99) - 1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--apply-count", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    use_bench_database(DB)
    setup_django()
    from campaigns.models import Account

    account = Account.objects.create(name="rbench", system_id=SYSTEM_ID, smpp_password=PASSWORD, rate_per_bind=0)
    result = {
        "applied_per_s": round(apply_throughput(args.apply_count, account.id), 1),
        "apply_count": args.apply_count,
    }
    with tempfile.TemporaryDirectory() as tmp:
        result.update(latency(args.rate, args.seconds, account, Path(tmp)))
    result["cpus"] = os.cpu_count()
    drop_database(DB)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
