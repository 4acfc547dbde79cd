"""Start the bind workers of every active account: ``binds`` processes per account.

Transceiver accounts get ``binds`` TRX bind workers; transmitter + receiver accounts get
``binds`` TX bind workers and ``binds`` RX receivers. Each bind worker is
``celery -A config worker -Q smpp.<system_id> -P threads`` with one bind of its own.

Several hosts may run this command for the same accounts: worker *i* binds only while it
holds slot *i*'s lease in PostgreSQL (``smpp_transport/bind_slot.py``), so at most
``binds`` sessions per account (and ``binds`` receivers) exist across all hosts; the
others wait, and take over the slots of a host that dies.
"""

from __future__ import annotations

import logging
import sys

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from campaigns.services import transport_api
from config.celery import account_queues
from plumbing.supervisor import Supervisor, db_env
from smpp_transport.bind_slot import RX_SLOT_BASE

logger = logging.getLogger(__name__)


def bind_worker_argv(system_id: str, index: int, *, concurrency: int, loglevel: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "-Q",
        account_queues(system_id).smpp,
        "-P",
        "threads",
        "-c",
        str(concurrency),
        "-n",
        f"bind.{system_id}.{index}@%h",
        "--without-gossip",
        "--without-mingle",
        "-l",
        loglevel,
    ]


def receiver_argv(system_id: str, index: int | None = None) -> list[str]:
    argv = [sys.executable, "manage.py", "smpp_receiver", "--system-id", system_id]
    return argv if index is None else [*argv, "--slot", str(RX_SLOT_BASE + index)]


class Command(BaseCommand):
    help = "Run one SMPP bind worker per bind of every active account, restarting any that dies."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--system-id", action="append", help="Only these accounts (repeatable).")
        parser.add_argument("--concurrency", type=int, default=4, help="Batch threads per bind worker.")
        parser.add_argument("--loglevel", default="INFO")
        parser.add_argument(
            "--metrics-port-base",
            type=int,
            default=None,
            help="serve each bind's Prometheus metrics on base, base+1, … (in start order)",
        )

    def handle(self, *args, **options) -> None:
        supervisor = Supervisor()
        ports: dict[str, int] = {}

        def metrics_env(name: str) -> dict[str, str]:
            if options["metrics_port_base"] is None:
                return {}
            port = ports.setdefault(name, options["metrics_port_base"] + len(ports))
            return {"SMPP_METRICS_PORT": str(port)}

        def refresh() -> None:
            close_old_connections()  # a connection broken by an outage is dropped, not reused
            for account in transport_api.binds_to_run(system_ids=options["system_id"]):
                for i in range(account.binds):
                    supervisor.add(
                        f"bind.{account.system_id}.{i}",
                        bind_worker_argv(
                            account.system_id, i, concurrency=options["concurrency"], loglevel=options["loglevel"]
                        ),
                        {
                            "SMPP_BIND_SYSTEM_ID": account.system_id,
                            "SMPP_BIND_MODE": account.mode,
                            "SMPP_BIND_SLOT": str(i),
                            **db_env(f"bind.{account.system_id}.{i}", settings.BIND_WORKER_DB_POOL_MAX_SIZE),
                            **metrics_env(f"bind.{account.system_id}.{i}"),
                        },
                    )
                    if account.receivers:
                        name = f"rx.{account.system_id}.{i}"
                        supervisor.add(
                            name,
                            receiver_argv(account.system_id, i),
                            {**metrics_env(name), **db_env(name, settings.BIND_WORKER_DB_POOL_MAX_SIZE)},
                        )

        supervisor.run(refresh=refresh, refresh_every_s=settings.SUPERVISOR_REFRESH_S)
