"""Numbered slots leased in PostgreSQL: at most one holder per slot across every host.

A bind worker holds slot *i* of its account as a session advisory lock (the two-int form,
``pg_try_advisory_lock(SLOT_LOCK_CLASS, key)``) on a connection of its own, opened with
psycopg directly: not Django's (pooled, per thread, closed between requests), and never
through PgBouncer in transaction pooling, where a session lock would stay behind on a
server connection someone else is using. The lock lives exactly as long as that
connection, which is what makes it a lease:

* a holder that exits or crashes closes the socket and the server frees the lock at once;
* a holder whose host dies or is cut off is noticed by the *server's* TCP keepalives and
  user timeout, set for this session only (``tcp_keepalives_*``, ``tcp_user_timeout``):
  about 11 s, so a waiting holder elsewhere gets the slot well within 30 s;
* the holder checks its lease on a heartbeat (its lock still granted in ``pg_locks``, on
  the same connection, client-side timeouts bounding the check). A failed check means the
  server may already have given the slot to someone else: ``on_lost`` runs once, and the
  caller must stop using the slot (fencing).

Tied to no app: keys are plain integers (the caller's resource id and slot number).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg

logger = logging.getLogger(__name__)

#: advisory lock class of bind slots: (SLOT_LOCK_CLASS, slot_key(account, slot)); other
#: classes in the project: claims.CLAIM_LOCK_CLASS, submit_recovery.SWEEP_LOCK
SLOT_LOCK_CLASS = 0x5EB70D17
_SLOT_BITS = 10  # up to 1,024 slots per resource, resources up to 2**21
MAX_SLOTS = 1 << _SLOT_BITS
_MAX_RESOURCE = (1 << (31 - _SLOT_BITS)) - 1

# Server side (this session only): a peer silent for 5 s is probed every 2 s, 3 times;
# unacknowledged data gives up after 10 s. Client side the same, so a holder cut off from
# the server learns it about when the server frees its lock.
_KEEPALIVE_OPTIONS = "-c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=3"
_CLIENT_PARAMS: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,
    "connect_timeout": 10,
}


def slot_key(resource: int, slot: int) -> int:
    """The lock's second int: ``resource`` (an account id) and ``slot`` packed in 31 bits."""
    if not 0 <= slot < MAX_SLOTS:
        raise ValueError(f"slot must be 0..{MAX_SLOTS - 1}, not {slot}")
    if not 0 <= resource <= _MAX_RESOURCE:
        raise ValueError(f"resource must be 0..{_MAX_RESOURCE}, not {resource}")
    return (resource << _SLOT_BITS) | slot


class LeaseLost(Exception):
    """The lease's connection broke or its lock is no longer granted."""


class SlotLease:
    """Slot ``slot`` of ``resource``: :meth:`acquire` waits for it, :meth:`release` frees it.

    ``conninfo`` and ``params`` are handed to ``psycopg.connect`` (a URL or key=value string,
    and keyword parameters such as Django's ``get_connection_params()``).
    """

    def __init__(
        self,
        *,
        resource: int,
        slot: int,
        conninfo: str = "",
        params: dict[str, Any] | None = None,
        name: str = "",
        heartbeat_s: float = 5.0,
        poll_min_s: float = 0.5,
        poll_max_s: float = 5.0,
    ) -> None:
        self.resource, self.slot = resource, slot
        self.key = slot_key(resource, slot)
        self.name = name or f"slot {resource}/{slot}"
        self.heartbeat_s, self.poll_min_s, self.poll_max_s = heartbeat_s, poll_min_s, poll_max_s
        self._conninfo = conninfo
        self._params = {k: v for k, v in (params or {}).items() if k not in ("cursor_factory", "prepare_threshold")}
        self._conn: psycopg.Connection | None = None
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None
        self.held = False
        self.attempts = 0

    def _connect(self) -> psycopg.Connection:
        params = {**self._params, **_CLIENT_PARAMS}
        options = " ".join(filter(None, [params.pop("options", ""), _KEEPALIVE_OPTIONS, "-c tcp_user_timeout=10000"]))
        params["application_name"] = f"lease {self.name}"[:63]  # pg_stat_activity tells leases apart
        return psycopg.connect(self._conninfo, autocommit=True, options=options, **params)

    def try_acquire(self) -> bool:
        """One attempt: True if this lease now holds the slot. A failed attempt closes its
        connection: a waiting lease costs the database no connection between polls."""
        if self.held:
            return True
        if self._conn is None or self._conn.closed:
            self._conn = self._connect()
        self.attempts += 1
        row = self._conn.execute("SELECT pg_try_advisory_lock(%s, %s)", [SLOT_LOCK_CLASS, self.key]).fetchone()
        self.held = bool(row and row[0])
        if not self.held:
            self._drop()
        return self.held

    def acquire(self, *, should_stop: Callable[[], bool] = lambda: False, timeout: float | None = None) -> bool:
        """Wait until the slot is ours: polls with backoff (and jitter) up to ``poll_max_s``,
        logs once that it waits and once if the database is away. False if ``should_stop``
        said so or ``timeout`` passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay, told_busy, told_down = self.poll_min_s, False, False
        while not (should_stop() or self._stop.is_set()):
            try:
                if self.try_acquire():
                    if told_busy or told_down:
                        logger.info("%s: lease acquired after %d attempts", self.name, self.attempts)
                    return True
                if not told_busy:
                    logger.info(
                        "%s: held elsewhere; waiting for it (polling up to every %.1fs)", self.name, self.poll_max_s
                    )
                    told_busy = True
            except psycopg.Error as exc:
                self._drop()
                if not told_down:
                    logger.warning("%s: cannot reach the database for the lease (%s); retrying", self.name, exc)
                    told_down = True
            wait = random.uniform(self.poll_min_s, delay)
            if deadline is not None:
                wait = min(wait, deadline - time.monotonic())
                if wait <= 0:
                    return False
            self._stop.wait(wait)
            delay = min(self.poll_max_s, delay * 2)
        return False

    def check(self) -> None:
        """Raise :class:`LeaseLost` unless this connection still holds the lock."""
        conn = self._conn
        if not self.held or conn is None or conn.closed:
            raise LeaseLost(f"{self.name}: not held")
        try:
            row = conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
                " AND classid = %s::bigint::oid AND objid = %s::bigint::oid AND objsubid = 2 AND granted",
                [SLOT_LOCK_CLASS, self.key],
            ).fetchone()
        except psycopg.Error as exc:
            raise LeaseLost(f"{self.name}: lease connection failed: {exc}") from exc
        if not row or row[0] != 1:
            raise LeaseLost(f"{self.name}: lock no longer granted")

    def watch(self, on_lost: Callable[[str], None]) -> None:
        """Check the lease every ``heartbeat_s`` on a daemon thread; ``on_lost(reason)``
        runs once, on that thread, when a check fails (the lease is then released)."""

        def run() -> None:
            while not self._stop.wait(self.heartbeat_s):
                try:
                    self.check()
                except LeaseLost as exc:
                    if self._stop.is_set():
                        return
                    logger.error("%s: lease lost (%s); fencing", self.name, exc)
                    self.held = False
                    self._drop()
                    on_lost(str(exc))
                    return

        self._heartbeat = threading.Thread(target=run, name=f"lease[{self.name}]", daemon=True)
        self._heartbeat.start()

    def release(self) -> None:
        """Stop the heartbeat and close the connection (which frees the lock); idempotent."""
        self._stop.set()
        if self._heartbeat is not None and self._heartbeat is not threading.current_thread():
            self._heartbeat.join(5.0)
        self.held = False
        self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except psycopg.Error:
                pass
