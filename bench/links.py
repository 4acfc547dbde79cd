"""Short-link redirects through gunicorn on a million-code table; one JSON line.

    .venv/bin/python bench/links.py [--codes 1000000] [--seconds 20] [--connections 8] [--workers 2 --threads 4]

Builds a campaign of --codes messages and one tracked link with a code per message (the
messages with one INSERT … SELECT, the codes drawn by ``campaigns.services.links.new_codes``
and bulk-inserted through ``unnest`` in chunks), VACUUMs, ANALYZEs and CHECKPOINTs (so the
timed part does not pay for the build's aftermath), then starts the web app as the
Procfile does (``gunicorn config.wsgi --workers 2 --threads 4``, no access log) on a free
loopback port. An asyncio client keeps --connections keep-alive HTTP/1.1 connections busy,
each request a random code with a phone's User-Agent, for a warm-up of 3 s and then
--seconds timed. Prints ``redirects_per_s`` (302s answered in the timed part, per second),
``p50_ms``/``p99_ms`` (client-side, request written to response read), ``clicks_recorded``
(Click rows in the table at the end, warm-up included) and ``clicks_lost`` (302s answered
over the whole run, warm-up included, minus clicks recorded: a 302 is only sent after its
click's INSERT committed, so this must be 0), and
``errors`` (any answer but 302, or a broken connection). BENCH_DB names the database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time

from _procs import descendants
from _setup import ROOT, drop_database, setup_django, use_bench_database

DB = os.environ.get("BENCH_DB", "bench_links")
AGENT = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"


def build(count: int) -> list[str]:
    """The campaign, its messages and a code for each; returns the codes."""
    from django.db import connection
    from django.utils import timezone

    from campaigns.models import Account, Campaign, Message, ShortCode, TrackedLink
    from campaigns.services.bulk_sql import pg_array, quoted_table
    from campaigns.services.links import new_codes

    account = Account.objects.create(name="bench", system_id="bench", smpp_password="pw", binds=1)
    now = timezone.now()
    campaign = Campaign.objects.create(
        name="Links", account=account, body="Sale https://shop.example.com/spring", track_links=True, status="running"
    )
    link = TrackedLink.objects.create(campaign=campaign, url="https://shop.example.com/spring?utm_source=sms")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quoted_table(Message)} (campaign_id, phone, body, status, reason, segments, recipient_tz, "
            "attempts, created_at, updated_at) SELECT %s, '+44' || (7000000000 + g)::text, '', 'delivered', '', 1, "
            "'', 1, %s, %s FROM generate_series(1, %s) g",
            [campaign.id, now, now, count],
        )
        cursor.execute(f"SELECT id FROM {quoted_table(Message)} WHERE campaign_id = %s ORDER BY id", [campaign.id])
        ids = [row[0] for row in cursor.fetchall()]
        codes = new_codes(count)
        for start in range(0, count, 100_000):
            cursor.execute(
                f"INSERT INTO {quoted_table(ShortCode)} (code, message_id, link_id, created_at) "
                "SELECT c, m, %s, %s FROM unnest(%s::text[], %s::bigint[]) AS u(c, m)",
                [
                    link.id,
                    now,
                    pg_array(codes[start : start + 100_000], "text"),
                    pg_array(ids[start : start + 100_000], "bigint"),
                ],
            )
        # The load just written would otherwise be vacuumed (autovacuum's insert threshold)
        # and checkpointed during the timed part: measure the redirects, not the build.
        cursor.execute("VACUUM (ANALYZE)")
        cursor.execute("CHECKPOINT")
    return codes


def clicks() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM campaigns_click")
        return cursor.fetchone()[0]


def backend_cpu(database: str) -> float:
    """CPU seconds of the PostgreSQL backends serving ``database`` (their process titles name it)."""
    from pathlib import Path

    from _procs import proc_stat

    total = 0.0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                title = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if title.startswith(b"postgres: ") and f" {database} ".encode() in title:
                total += (proc_stat(int(entry)) or (0, 0.0, 0))[1]
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Load:
    """Keep-alive connections, each sending one request after the other."""

    def __init__(self, port: int, codes: list[str]) -> None:
        self.port, self.codes = port, codes
        self.latencies: list[float] = []
        self.ok = self.errors = self.all_redirects = 0
        self.recording = False
        self.stop = False

    async def connection(self) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        pick = random.Random().choice
        while not self.stop:
            request = f"GET /r/{pick(self.codes)} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: {AGENT}\r\n\r\n"
            started = time.perf_counter()
            try:
                writer.write(request.encode())
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if length:
                    await reader.readexactly(length)
                status = int(head.split(b" ", 2)[1])
            except (OSError, asyncio.IncompleteReadError, ValueError):
                self.errors += self.recording
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                continue
            self.all_redirects += status == 302
            if self.recording:
                self.latencies.append(time.perf_counter() - started)
                if status == 302:
                    self.ok += 1
                else:
                    self.errors += 1
        writer.close()

    async def run(self, connections: int, warmup: float, seconds: float) -> float:
        tasks = [asyncio.create_task(self.connection()) for _ in range(connections)]
        await asyncio.sleep(warmup)
        self.recording = True
        started = time.perf_counter()
        await asyncio.sleep(seconds)
        self.recording = False
        elapsed = time.perf_counter() - started
        self.stop = True
        await asyncio.gather(*tasks, return_exceptions=True)
        return elapsed


def wait_listening(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError("gunicorn did not listen")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--codes", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn --workers (the Procfile: 2)")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn --threads (the Procfile: 4)")
    args = parser.parse_args()
    url = use_bench_database(DB)
    setup_django()
    built = time.perf_counter()
    codes = build(args.codes)
    build_s = time.perf_counter() - built
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING", "LINK_DOMAIN": f"http://127.0.0.1:{port}"}
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
         "--threads", str(args.threads)],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    try:
        wait_listening(port, 60)
        load = Load(port, codes)
        database = url.rsplit("/", 1)[1]
        cpu_before = sum(cpu for cpu, _ in descendants(web.pid).values())
        pg_before, client_before = backend_cpu(database), time.process_time()
        elapsed = asyncio.run(load.run(args.connections, 3.0, args.seconds))
        web_cpu = sum(cpu for cpu, _ in descendants(web.pid).values()) - cpu_before
        pg_cpu, client_cpu = backend_cpu(database) - pg_before, time.process_time() - client_before
        recorded = clicks()  # every request has had its answer: the client stopped first
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(timeout=30)
    from django.db import connection

    connection.close()
    drop_database(DB)
    latencies = sorted(load.latencies)
    print(
        json.dumps(
            {
                "codes": args.codes,
                "build_s": round(build_s, 1),
                "connections": args.connections,
                "gunicorn": f"--workers {args.workers} --threads {args.threads}",
                "seconds": round(elapsed, 1),
                "redirects_per_s": round(load.ok / elapsed),
                "p50_ms": round(1000 * statistics.median(latencies), 1) if latencies else None,
                "p99_ms": round(1000 * latencies[int(0.99 * (len(latencies) - 1))], 1) if latencies else None,
                "clicks_recorded": recorded,
                "redirects_answered": load.all_redirects,
                "clicks_lost": max(0, load.all_redirects - recorded),
                "errors": load.errors,
                # the web workers' CPU per redirect answered (warm-up included), and the load
                "web_cpu_ms_per_redirect": round(1000 * web_cpu / max(1, load.all_redirects), 2),
                "postgres_cpu_ms_per_redirect": round(1000 * pg_cpu / max(1, load.all_redirects), 2),
                "client_cpu_ms_per_redirect": round(1000 * client_cpu / max(1, load.all_redirects), 2),
                "loadavg_1m": os.getloadavg()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
