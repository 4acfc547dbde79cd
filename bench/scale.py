"""One account of 20 TRX binds × 50/s through the whole platform; prints ONE JSON line.

    .venv/bin/python bench/scale.py [--binds 20] [--rate 50] [--count 20000]

The simulator runs as its own process (throttling at ``--rate`` per bind, a DELIVRD receipt
for every message 1 s after its submit, logging every submit with its bind). Beat, the
dispatch worker and ``manage.py run_bind_workers`` (which starts the account's ``--binds``
bind workers with their default connection pools) run on PostgreSQL and RabbitMQ
(BENCH_PG_URL, BENCH_BROKER_URL; defaults: the local ones). From "send now" until every
message is delivered (its receipt applied):

* aggregate_per_s: accepted submits / sending time (first to last accepted submit in the
  simulator's log); aggregate_ratio = aggregate_per_s / target_per_s (binds × rate);
* max_1s_per_bind: the busiest sliding second of any one bind session; throttled:
  ESME_RTHROTTLED answers;
* lost: messages never accepted; duplicates: destinations accepted more than once;
  receipts_unapplied: accepted messages not ``delivered`` in the database at the end;
* peak_db_connections: backends of the bench database in pg_stat_activity, sampled every
  0.25 s (this process's own included); max_worker_rss_mb: the largest bind worker;
* cpu_s_per_1000: user+system CPU seconds per 1,000 messages, per process kind (bind
  workers summed; read from /proc just before the processes stop).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import tempfile
import threading
import time
from pathlib import Path

from _procs import descendants, proc_stat
from _setup import drop_database, setup_django, use_bench_database
from dispatch import keep_logs, make_campaign, run_platform  # sets the bench's broker and queue
from smpp_bind import SYSTEM_ID, free_port, max_in_window, start_simulator, stop_simulator

DB = "bench_scale"


class Sampler:
    """Samples database connections and the processes' CPU and memory every 0.25 s."""

    def __init__(self, db_name: str, kinds: dict[str, int]) -> None:
        self.db_name, self.kinds = db_name, kinds  # kind → pid of its process (or supervisor)
        self.peak_connections, self.max_bind_rss_kb = 0, 0
        self.cpu: dict[str, float] = {}  # CPU seconds since the first sample (start-up excluded)
        self._cpu_at_start: dict[str, float] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from django.db import connection

        try:
            self.sample(connection)  # the baseline, before "send now"
            while not self._stop.wait(0.25):
                self.sample(connection)
        finally:
            connection.close()

    def sample(self, connection) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [self.db_name])
            self.peak_connections = max(self.peak_connections, cursor.fetchone()[0])
        cpu: dict[str, float] = {}
        for kind, pid in self.kinds.items():
            own = proc_stat(pid)
            below = descendants(pid)
            if kind == "bind_workers":  # the supervisor's children; the supervisor on its own
                cpu[kind] = sum(c for c, _ in below.values())
                self.max_bind_rss_kb = max([self.max_bind_rss_kb, *(r for _, r in below.values())])
                cpu["bind_supervisor"] = own[1] if own else 0.0
            else:
                cpu[kind] = (own[1] if own else 0.0) + sum(c for c, _ in below.values())
        if self._cpu_at_start is None:
            self._cpu_at_start = cpu
        for kind, seconds in cpu.items():
            self.cpu[kind] = max(self.cpu.get(kind, 0.0), seconds - self._cpu_at_start.get(kind, 0.0))

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)


def run(binds: int, rate: int, count: int, tmp: Path) -> dict:
    import sys

    from django.conf import settings

    from campaigns.models import Message
    from campaigns.services import campaign_actions
    from campaigns.statuses import S
    from tests.e2e.harness import wait_until

    port = free_port()
    log = tmp / "submits.jsonl"
    sim = start_simulator(port, rate, log, None, outcomes="DELIVRD=1", dlr_delay=1.0)
    platform = None
    try:
        campaign = make_campaign(count, rate=rate, binds=binds, port=port)
        platform = run_platform(tmp, binds=0)
        supervisor = platform.start(
            "run_bind_workers", [sys.executable, "manage.py", "run_bind_workers", "--system-id", SYSTEM_ID]
        )
        supervisor_log = tmp / "run_bind_workers.log"
        wait_until(
            lambda: supervisor_log.exists() and supervisor_log.read_bytes().count(b" ready.") >= binds,
            timeout=180,
            what=f"{binds} bind workers ready",
        )
        kinds = {"bind_workers": supervisor.pid, "dispatch": platform.procs["dispatch"].pid}
        kinds |= {"beat": platform.procs["beat"].pid, "simulator": sim.pid}
        db_name = settings.DATABASES["default"]["NAME"]
        delivered = Message.objects.filter(campaign=campaign, status=S.DELIVERED)
        with Sampler(db_name, kinds) as sampler:
            wait_until(lambda: sampler._cpu_at_start is not None, timeout=10, what="the first sample")
            campaign_actions.send_now(campaign=campaign)
            wait_until(  # once a second: a COUNT over the campaign is not free, and the bench is not the platform
                lambda: delivered.count() >= count,
                timeout=count / (binds * rate) * 4 + 120,
                interval=1.0,
                what="all delivered",
            )
        unapplied = count - delivered.count()
    finally:
        if platform:
            platform.stop()
        stop_simulator(sim)
        keep_logs(tmp)
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    accepted = [r for r in records if r["command_status"] == 0]
    times = sorted(r["ts"] for r in accepted)
    per_bind: dict[str, list[float]] = collections.defaultdict(list)
    for r in accepted:
        per_bind[str(r["bind_id"])].append(r["ts"])
    destinations = collections.Counter(r["destination_addr"] for r in accepted)
    aggregate = len(accepted) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    return {
        "binds": binds,
        "target_per_s": binds * rate,
        "aggregate_per_s": round(aggregate, 1),
        "aggregate_ratio": round(aggregate / (binds * rate), 3),
        "bind_sessions": len(per_bind),
        "max_1s_per_bind": max(max_in_window(sorted(ts)) for ts in per_bind.values()),
        "throttled": sum(1 for r in records if r["command_status"] == 0x58),
        "receipts_unapplied": unapplied,
        "lost": count - len(destinations),
        "duplicates": sum(n - 1 for n in destinations.values() if n > 1),
        "peak_db_connections": sampler.peak_connections,
        "max_worker_rss_mb": round(sampler.max_bind_rss_kb / 1024, 1),
        "cpu_s_per_1000": {k: round(v * 1000 / count, 2) for k, v in sorted(sampler.cpu.items())},
        "messages": count,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binds", type=int, default=20)
    parser.add_argument("--rate", type=int, default=50, help="msg/s per bind (the simulator throttles above)")
    parser.add_argument("--count", type=int, default=20000)
    args = parser.parse_args()
    use_bench_database(DB)
    setup_django()
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        result = run(args.binds, args.rate, args.count, Path(tmp))
    result.update(
        {"wall_s": round(time.time() - started, 1), "cpus": os.cpu_count(), "loadavg_1m": round(os.getloadavg()[0], 2)}
    )
    drop_database(DB)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
