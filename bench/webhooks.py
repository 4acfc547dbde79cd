"""Status webhooks end to end: status changes → outbox → deliverers → a local HTTP receiver; one JSON line.

    BENCH_DB_SUFFIX=_me .venv/bin/python bench/webhooks.py [--changes 10000] [--rate 1500] [--deliverers 2]

On PostgreSQL (BENCH_PG_URL, default the local server), a fresh database with one active
endpoint pointing at a receiver (``http.server``, its own process, on 127.0.0.1). The
writer applies ``--changes`` message status changes (pending → queued, then → accepted,
in transactions of 200 messages, paced at ``--rate`` changes/s) through
``campaigns.services.status``; ``--deliverers`` processes run ``deliver_due`` in a loop
(polling every 20 ms instead of Celery kicks). Prints ``events`` (outbox rows),
``delivered`` (distinct event ids received), ``lost``, ``duplicates``, ``per_s``
(deliveries per second, first change to last POST received) and ``p50_ms``/``p99_ms``
(event ``created`` → POST received).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import tempfile
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from _setup import drop_database, setup_django, use_bench_database

DB = "bench_webhooks"
BATCH = 200


def receive(port_queue: mp.Queue, log_path: str) -> None:
    """The receiver process: appends "<event id> <created> <received>" per POST to ``log_path``."""
    log = open(log_path, "a", buffering=1)  # noqa: SIM115 - lives as long as the process

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            now = time.time()
            created = json.loads(body)["created"]
            log.write(f"{self.headers['X-Webhook-Id']} {created} {now}\n")
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_queue.put(server.server_address[1])
    server.serve_forever()


def deliver(stop: mp.Event) -> None:
    """A deliverer process: ``deliver_due`` until told to stop and nothing is due."""
    from django.db import connections

    connections.close_all()
    from campaigns.services.webhook_delivery import deliver_due

    while True:
        if not deliver_due(budget_s=5):
            if stop.is_set():
                return
            time.sleep(0.02)


def write(changes: int, rate: float) -> float:
    """Apply the status changes, paced; returns when the first one was made (epoch seconds)."""
    from django.db import transaction

    from campaigns.models import Account, Campaign, Message
    from campaigns.services import status

    account = Account.objects.create(name="wh", system_id="whbench", smpp_password="x")
    campaign = Campaign.objects.create(name="wh", account=account, body="x", status="running")
    messages = changes // 2
    Message.objects.bulk_create(
        (Message(campaign=campaign, phone=f"+4479{i:08d}", body="x") for i in range(messages)), batch_size=5000
    )
    ids = list(Message.objects.filter(campaign=campaign).values_list("id", flat=True))
    steps = [(ids[i : i + BATCH], s) for s in ("queued", "accepted") for i in range(0, len(ids), BATCH)]
    started = time.time()
    for n, (batch, to) in enumerate(steps):
        due = started + n * BATCH / rate
        if (wait := due - time.time()) > 0:
            time.sleep(wait)
        with transaction.atomic():
            status.advance_messages(batch, to)
    return started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=1500.0)
    parser.add_argument("--deliverers", type=int, default=2)
    args = parser.parse_args()
    os.environ.update(WEBHOOKS_ALLOW_PRIVATE="1", WEBHOOKS_ENDPOINTS_CACHE_S="60", LOG_LEVEL="WARNING")
    use_bench_database(DB)
    setup_django()
    from django.db import connections

    from campaigns.models import DeliveryStatus, WebhookDelivery, WebhookEvent
    from campaigns.services import webhook_outbox, webhooks

    webhook_outbox.kick_deliverer = lambda: None  # deliverers poll here (no Celery in the bench)
    ctx = mp.get_context("fork")
    log_path = tempfile.mktemp(prefix="bench-webhooks-", suffix=".log")
    ports: mp.Queue = ctx.Queue()
    receiver = ctx.Process(target=receive, args=(ports, log_path), daemon=True)
    receiver.start()
    port = ports.get(timeout=30)
    webhooks.create_endpoint(owner=None, url=f"http://127.0.0.1:{port}/hook", events=["message.status"])
    connections.close_all()
    stop = ctx.Event()
    deliverers = [ctx.Process(target=deliver, args=(stop,), daemon=True) for _ in range(args.deliverers)]
    for process in deliverers:
        process.start()
    try:
        started = write(args.changes, args.rate)
        deadline = time.monotonic() + 300
        while WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        stop.set()
        for process in deliverers:
            process.join(timeout=30)
        time.sleep(0.2)  # the receiver's last log lines
        events = WebhookEvent.objects.count()
        seen: dict[str, int] = {}
        latencies, last = [], started
        with open(log_path) as log:
            for line in log:
                event_id, created, received = line.split()
                seen[event_id] = seen.get(event_id, 0) + 1
                latencies.append((float(received) - datetime.fromisoformat(created).timestamp()) * 1000)
                last = max(last, float(received))
        ordered = sorted(latencies)
        result = {
            "changes": args.changes,
            "rate": args.rate,
            "deliverers": args.deliverers,
            "events": events,
            "delivered": len(seen),
            "lost": events
            - len(set(seen) & {str(u) for u in WebhookEvent.objects.values_list("public_id", flat=True)}),
            "duplicates": sum(n - 1 for n in seen.values()),
            "per_s": round(len(seen) / max(last - started, 1e-9), 1),
            "p50_ms": round(statistics.median(ordered), 1) if ordered else None,
            "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1], 1) if ordered else None,
        }
        print(json.dumps(result))
    finally:
        stop.set()
        receiver.terminate()
        for process in deliverers:
            process.terminate()
        os.unlink(log_path)
        drop_database(DB)


if __name__ == "__main__":
    main()
