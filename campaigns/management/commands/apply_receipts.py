"""Apply the receipt inbox continuously: the receipt half of the platform's latency.

The beat tick also applies receipts once a second; this loop brings receipt-to-status
latency down to about ``--idle-wait`` and keeps up with bursts (it loops without waiting
while it finds full batches). Several can run: each batch is claimed with SKIP LOCKED.
"""

from __future__ import annotations

import logging
import signal
import threading

from django.core.management.base import BaseCommand
from django.db import InterfaceError, OperationalError, close_old_connections

from campaigns.services.receipts import apply_receipts

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Apply pending delivery receipts to their messages, continuously."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--idle-wait", type=float, default=0.1, help="seconds to wait when nothing matched")
        parser.add_argument("--batch", type=int, default=5000)

    def handle(self, *args, **options) -> None:
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        while not stop.is_set():
            close_old_connections()
            try:
                applied = apply_receipts(limit=options["batch"])
            except (OperationalError, InterfaceError):
                # The database restarted or is unreachable: the inbox keeps everything.
                logger.warning("database unavailable; retrying in 1 s")
                stop.wait(1.0)
                continue
            if applied < options["batch"]:
                stop.wait(options["idle_wait"])
