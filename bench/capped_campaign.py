"""A capped campaign through the whole platform, as the SMSC sees it; prints ONE JSON line.

    .venv/bin/python bench/capped_campaign.py [--cap 20] [--seconds 30] [--also-caps 30,0]

Beat, the dispatch worker and two bind workers (2 binds × 50/s) run against the SMSC
simulator as a subprocess (throttling at 50/s per bind, no receipts), on PostgreSQL and
RabbitMQ (BENCH_PG_URL, BENCH_BROKER_URL; defaults: the local ones). The campaign is capped
at ``--cap`` segments per second; ``--also-caps`` runs more campaigns on the same account at
the same time (0: uncapped), to see the account shared. From the simulator's arrival stamps
of the campaign's submits:

* achieved_per_s: submits in ``--seconds`` of steady state (the first 2 s after its first
  submit are skipped), divided by ``--seconds``;
* busiest_second / busiest_10s: the most submits in any sliding 1 s / 10 s window;
* throttled: ESME_RTHROTTLED answers in the run (any campaign).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from _setup import drop_database, setup_django, use_bench_database
from dispatch import accepted_count, keep_logs, make_campaign, run_platform  # sets the bench's broker and queue
from smpp_bind import free_port, max_in_window, start_simulator, stop_simulator

RATE_PER_BIND, BINDS = 50, 2


def add_campaign(first, sender: str, cap: int, count: int, offset: int):
    """Another campaign on ``first``'s account, with its own recipients and sender."""
    from django.db import connection

    from campaigns.models import Campaign, Contact, RecipientList

    lst = RecipientList.objects.create(name=f"bench {sender}")
    table = connection.ops.quote_name(Contact._meta.db_table)
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} (recipient_list_id, phone, first_name, last_name, attributes, created_at) "
            f"SELECT %s, '+447' || lpad(g::text, 9, '0'), '', '', '{{}}'::jsonb, now() "
            f"FROM generate_series(%s, %s + %s - 1) g",
            [lst.id, offset, offset, count],
        )
    campaign = Campaign.objects.create(
        name=sender, account=first.account, sender=sender, body=first.body, send_rate=cap or None
    )
    campaign.recipient_lists.add(lst)
    return campaign


def figures(times: list[float], seconds: float) -> dict:
    start = times[0] + 2.0
    steady = [t for t in times if start <= t < start + seconds]
    return {
        "achieved_per_s": round(len(steady) / seconds, 2),
        "busiest_second": max_in_window(times),
        "busiest_10s": max_in_window(times, 10.0),
        "submits": len(times),
    }


def run(cap: int, seconds: float, also: list[int], tmp: Path) -> dict:
    from campaigns.services import campaign_actions
    from tests.e2e.harness import wait_until

    port = free_port()
    log = tmp / "submits.jsonl"
    sim = start_simulator(port, RATE_PER_BIND, log, None)
    platform = None
    count = int(cap * (seconds + 4))
    try:
        main = make_campaign(count, rate=RATE_PER_BIND, binds=BINDS, port=port)
        main.sender, main.send_rate = "Capped", cap
        main.save()
        others = [
            add_campaign(main, f"Other{k}", c, int((c or 50) * (seconds + 4)), 200000000 + k * 10000000)
            for k, c in enumerate(also)
        ]
        platform = run_platform(tmp, binds=BINDS)
        for campaign in [main, *others]:
            campaign_actions.send_now(campaign=campaign)
        wait_until(
            lambda: accepted_count(main) >= count,
            timeout=seconds * 4 + 120,
            interval=1.0,
            what="the capped campaign sent",
        )
    finally:
        if platform:
            platform.stop()
        stop_simulator(sim)
        keep_logs(tmp)
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    by_sender: dict[str, list[float]] = {}
    for r in records:
        by_sender.setdefault(r["source_addr"], []).append(r["ts"])
    result = {
        "cap": cap,
        **figures(sorted(by_sender.get("Capped", [])), seconds),
        "seconds": seconds,
        "binds": BINDS,
        "rate_per_bind": RATE_PER_BIND,
    }
    if others:
        result["others"] = [
            {"cap": c or None, **figures(sorted(by_sender.get(f"Other{k}", [])), seconds)} for k, c in enumerate(also)
        ]
    result["throttled"] = sum(1 for r in records if r["command_status"] == 0x58)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cap", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--also-caps", default="", help="more campaigns on the account, e.g. 30,0 (0: uncapped)")
    parser.add_argument("--db", default="bench_capped", help="database created (and dropped) for the run")
    args = parser.parse_args()
    also = [int(c) for c in args.also_caps.split(",") if c.strip()]
    use_bench_database(args.db)
    setup_django()
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        result = run(args.cap, args.seconds, also, Path(tmp))
    result.update(
        {"wall_s": round(time.time() - started, 1), "cpus": os.cpu_count(), "loadavg_1m": round(os.getloadavg()[0], 2)}
    )
    drop_database(args.db)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
