"""A bind worker's slot lease: slot *i* of its account held before it binds.

``run_bind_workers`` on every host starts ``binds`` workers per account, slot 0..binds-1
each (``SMPP_BIND_SLOT``); a worker binds only once it holds its slot's lease
(:mod:`plumbing.slot_lease`), so however many hosts run the command, at most ``binds``
sessions per account reach the provider, and a host that dies hands its slots to the
workers waiting on the others. Without ``SMPP_BIND_SLOT`` (a worker started by hand) or on
SQLite (``make run``, one host) there is no lease.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable

from django.conf import settings
from django.db import connections

from plumbing.slot_lease import SlotLease

logger = logging.getLogger(__name__)


#: receivers (RX binds of a transmitter + receiver account) lease slots from here on, so
#: their sessions are counted apart from the transmitters'
RX_SLOT_BASE = 512
_RECHECK_BINDS_S = 30.0


def configured_slot(slot: str | int | None = None) -> int | None:
    """This process's slot (``SMPP_BIND_SLOT`` by default), or None when it binds without a
    lease: no slot given, or not on PostgreSQL."""
    slot = settings.SMPP_BIND_SLOT if slot is None else slot
    if slot == "" or connections["default"].vendor != "postgresql":
        return None
    return int(slot)


def lease_for(account_id: int, system_id: str, slot: int) -> SlotLease:
    """The lease of ``slot`` of the account, on a connection of its own (the database of
    Django's default connection, or SLOT_LEASE_DATABASE_URL, PostgreSQL itself)."""
    name = f"bind {system_id}/{slot}"
    if settings.SLOT_LEASE_DATABASE_URL:
        return SlotLease(
            resource=account_id,
            slot=slot,
            conninfo=settings.SLOT_LEASE_DATABASE_URL,
            name=name,
            heartbeat_s=settings.SLOT_LEASE_HEARTBEAT_S,
        )
    params = connections["default"].get_connection_params()
    return SlotLease(
        resource=account_id, slot=slot, params=params, name=name, heartbeat_s=settings.SLOT_LEASE_HEARTBEAT_S
    )


def worker_stopping() -> bool:
    """Celery was asked for a warm or cold shutdown (its signal handlers set these)."""
    from celery.worker import state

    return state.should_stop is not None or state.should_terminate is not None


def hold_slot(
    account_id: int,
    system_id: str,
    slot: int,
    *,
    binds: Callable[[], int],
    on_lost: Callable[[str], None],
    should_stop: Callable[[], bool],
) -> SlotLease | None:
    """Wait for the slot (None if asked to stop first); once held, ``on_lost`` runs when a
    heartbeat finds the lease gone. A slot beyond the account's ``binds()`` (the account
    has fewer binds than when this worker was started) is not taken until it has as many."""
    told = False
    while slot % RX_SLOT_BASE >= binds():
        connections.close_all()  # a worker that waits holds no connection of Django's
        if not told:
            logger.warning("bind %s/%d: the account has fewer binds now; not binding", system_id, slot)
            told = True
        for _ in range(int(_RECHECK_BINDS_S / 0.5)):
            if should_stop():
                return None
            time.sleep(0.5)
    lease = lease_for(account_id, system_id, slot)
    connections.close_all()
    if not lease.acquire(should_stop=should_stop):
        lease.release()
        return None
    logger.info("bind %s/%d: slot leased", system_id, slot)
    lease.watch(on_lost)
    return lease


def stop_this_worker(reason: str) -> None:
    """After fencing: a warm shutdown of this worker; its supervisor starts it again, and the
    new process waits for the slot like any other."""
    logger.error("bind worker stopping: %s", reason)
    os.kill(os.getpid(), signal.SIGTERM)
