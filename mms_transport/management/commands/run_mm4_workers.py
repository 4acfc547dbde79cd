"""Start the MM4 sender worker of every active account that has an MM4 host.

Each is ``celery -A config worker -Q mm4.<system_id> -P threads`` holding one SMTP session
of its own (``MM4_WORKER_SYSTEM_ID``), supervised like the SMPP bind workers: restarted
with backoff when it dies, stopped warmly (SIGTERM: finish the batch, QUIT) on shutdown.
Accounts whose MMS sending was stopped (login refused) get no worker until the reason is
cleared; the supervisor looks for new or re-enabled accounts every 30 s.
"""

from __future__ import annotations

import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from campaigns.services import transport_api
from config.celery import account_queues
from plumbing.supervisor import Supervisor, db_env


def mm4_worker_argv(system_id: str, *, concurrency: int, loglevel: str) -> list[str]:
    """The Celery command line of one account's MM4 sender worker."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "-Q",
        account_queues(system_id).mm4,
        "-P",
        "threads",
        "-c",
        str(concurrency),
        "-n",
        f"mm4.{system_id}@%h",
        "--without-gossip",
        "--without-mingle",
        "-l",
        loglevel,
    ]


def mm4_worker_accounts(system_ids: list[str] | None = None) -> list[str]:
    """Accounts that get an MM4 worker: active, with an MM4 host, MMS sending not stopped."""
    return transport_api.mm4_accounts_to_run(system_ids=system_ids)


class Command(BaseCommand):
    help = "Run one MM4 sender worker per active account with an MM4 host, restarting any that dies."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--system-id", action="append", help="Only these accounts (repeatable).")
        parser.add_argument("--concurrency", type=int, default=2, help="Batch threads per worker (one session).")
        parser.add_argument("--loglevel", default="INFO")

    def handle(self, *args: Any, **options: Any) -> None:
        supervisor = Supervisor()

        def refresh() -> None:
            close_old_connections()  # a connection broken by an outage is dropped, not reused
            for system_id in mm4_worker_accounts(options["system_id"]):
                argv = mm4_worker_argv(system_id, concurrency=options["concurrency"], loglevel=options["loglevel"])
                supervisor.add(
                    f"mm4.{system_id}",
                    argv,
                    {
                        "MM4_WORKER_SYSTEM_ID": system_id,
                        **db_env(f"mm4.{system_id}", settings.MM4_WORKER_DB_POOL_MAX_SIZE),
                    },
                )

        supervisor.run(refresh=refresh, refresh_every_s=settings.SUPERVISOR_REFRESH_S)
