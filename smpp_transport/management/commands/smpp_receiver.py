"""A DLR receiver: one RX bind that stores every deliver_sm in the inbox before acking it."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand

from smpp_transport import bind_slot, worker


class Command(BaseCommand):
    help = "Hold one receiver (RX) bind for an account and store its receipts and MO messages."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--system-id", required=True)
        parser.add_argument("--slot", default="", help="lease this bind slot before binding (run_bind_workers sets it)")

    def handle(self, *args, **options) -> None:
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        try:
            worker.open_bind(
                options["system_id"], "rx", slot=bind_slot.configured_slot(options["slot"]), should_stop=stop.is_set
            )
        except worker.SlotNotLeased:
            return
        stop.wait()
        worker.close_bind()
