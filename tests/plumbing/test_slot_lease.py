"""Bind slot leases on real PostgreSQL: one holder per slot, a dead holder's slot moves on,
a lost lock is noticed (fencing)."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from django.db import connection

from plumbing.slot_lease import SLOT_LOCK_CLASS, SlotLease, slot_key

pytestmark = pytest.mark.django_db(transaction=True)


def _lease(slot: int = 0, resource: int = 4242, **kwargs) -> SlotLease:
    params = connection.get_connection_params()
    return SlotLease(resource=resource, slot=slot, params=params, poll_min_s=0.05, poll_max_s=0.2, **kwargs)


def test_slot_key_keeps_accounts_and_slots_apart() -> None:
    assert len({slot_key(a, s) for a in range(50) for s in range(30)}) == 50 * 30
    assert slot_key(2**21 - 1, 1023) < 2**31
    with pytest.raises(ValueError):
        slot_key(1, 1024)


def test_the_second_holder_waits_and_takes_the_slot_when_the_first_connection_closes() -> None:
    first, second, other_slot = _lease(), _lease(), _lease(slot=1)
    try:
        assert first.acquire(timeout=5)
        assert not second.acquire(timeout=0.5), "two holders of one slot"
        assert second._conn is None, "a waiting lease keeps a connection between polls"
        assert other_slot.acquire(timeout=5), "another slot of the account is free"
        got = threading.Event()
        waiter = threading.Thread(target=lambda: second.acquire(timeout=20) and got.set())
        waiter.start()
        deadline = time.monotonic() + 10
        while second.attempts < 3:  # the waiter polls while the slot is taken
            assert time.monotonic() < deadline, "the waiter never polled"
            time.sleep(0.02)
        assert not got.is_set()
        started = time.monotonic()
        first._conn.close()  # the holder's connection drops (its process or host died)
        waiter.join(20)
        assert got.is_set(), "the waiting holder never got the freed slot"
        assert time.monotonic() - started < 5
    finally:
        for lease in (first, second, other_slot):
            lease.release()


def test_a_terminated_lease_connection_is_detected_by_the_heartbeat() -> None:
    lease = _lease(heartbeat_s=0.2)
    lost: list[str] = []
    fenced = threading.Event()
    try:
        assert lease.acquire(timeout=5)
        lease.check()
        lease.watch(lambda reason: (lost.append(reason), fenced.set()))
        pid = lease._conn.info.backend_pid
        with psycopg.connect(**connection.get_connection_params(), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
            assert fenced.wait(10), "lease loss not detected"
            assert not lease.held
            # and the slot is free for someone else
            other = _lease()
            try:
                assert other.acquire(timeout=5)
            finally:
                other.release()
    finally:
        lease.release()
    assert lost


def test_an_unlocked_lease_is_detected_too() -> None:
    lease = _lease()
    try:
        assert lease.acquire(timeout=5)
        lease._conn.execute("SELECT pg_advisory_unlock(%s, %s)", [SLOT_LOCK_CLASS, lease.key])
        with pytest.raises(Exception, match="no longer granted"):
            lease.check()
    finally:
        lease.release()


def test_the_lease_session_has_server_side_keepalives() -> None:
    """A host cut off (no FIN) is noticed by the server within ~11 s: that frees its slots."""
    lease = _lease()
    try:
        assert lease.acquire(timeout=5)
        settings = dict(
            lease._conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN"
                " ('tcp_keepalives_idle', 'tcp_keepalives_interval', 'tcp_keepalives_count', 'tcp_user_timeout')"
            ).fetchall()
        )
    finally:
        lease.release()
    assert settings == {
        "tcp_keepalives_idle": "5",
        "tcp_keepalives_interval": "2",
        "tcp_keepalives_count": "3",
        "tcp_user_timeout": "10000",
    }
