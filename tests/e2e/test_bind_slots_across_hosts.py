"""Two "hosts" (two ``run_bind_workers`` supervisors, each in its own process group) for one
2-bind account: the SMSC never sees more than 2 sessions, and when the host holding the
slots dies, the other host's waiting workers bind within 30 s.

Real processes, PostgreSQL (the leases), RabbitMQ (the workers' broker) and sockets to the
simulator. The simulator has no limit of its own here, so only the leases keep the count.
"""

from __future__ import annotations

import sys
import time
import uuid

import pytest
from django.db import connection

from smpp_transport.smsc import SimulatorConfig, SimulatorThread
from tests.e2e.harness import Platform, wait_until
from tests.factories import AccountFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]


def _leases_held(system_id: str) -> int:
    """Lease connections of the account's bind workers that hold their lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE %s",
            [f"lease bind {system_id}/%"],
        )
        return cursor.fetchone()[0]


def _waiting(platform: Platform, host: str) -> int:
    """How many of ``host``'s workers said they wait for a slot held elsewhere."""
    log = platform.tmp / f"{host}.log"
    return log.read_text(errors="replace").count("held elsewhere; waiting") if log.exists() else 0


def _bound(sim: SimulatorThread, system_id: str) -> int:
    return len(_bind_ids(sim, system_id))


def _bind_ids(sim: SimulatorThread, system_id: str) -> set[int]:
    return {b["bind_id"] for b in sim.binds() if b["system_id"] == system_id}


def test_two_hosts_never_bind_more_than_the_account_allows_and_take_over_a_dead_hosts_slots(tmp_path) -> None:
    system_id = f"x{uuid.uuid4().hex[:10]}"
    sim = SimulatorThread(SimulatorConfig(accounts={system_id: "pw"}, rate_per_bind=0)).start()
    AccountFactory(system_id=system_id, smpp_password="pw", smpp_port=sim.port, binds=2)
    platform = Platform(tmp_path, extra_env={"SLOT_LEASE_HEARTBEAT_S": "1"})
    argv = [sys.executable, "manage.py", "run_bind_workers", "--system-id", system_id, "--concurrency", "1"]
    try:
        platform.start("host-a", argv)
        try:
            wait_until(lambda: _bound(sim, system_id) == 2, timeout=120, what="host a's two binds")
            platform.start("host-b", argv)
            wait_until(lambda: _waiting(platform, "host-b") == 2, timeout=120, what="host b's workers waiting")
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}\n{platform.logs()}") from None
        assert _bound(sim, system_id) == 2 and sim.max_binds_seen(system_id) == 2 and _leases_held(system_id) == 2

        host_a = _bind_ids(sim, system_id)
        killed_at = time.monotonic()
        platform.kill("host-a")  # every process of host a, at once (no unbind, no unlock)
        try:
            wait_until(lambda: len(_bind_ids(sim, system_id) - host_a) == 2, timeout=30, what="two new sessions")
        except TimeoutError as exc:
            raise TimeoutError(f"host b did not take the slots: {exc}\n{platform.logs()}") from None
        takeover_s = time.monotonic() - killed_at
        assert takeover_s < 30
        assert not _bind_ids(sim, system_id) & host_a
        wait_until(lambda: _leases_held(system_id) == 2, timeout=10, what="host b's leases")
        assert sim.max_binds_seen(system_id) == 2, "more sessions than the account's binds"
        print(f"takeover {takeover_s:.1f}s")
    finally:
        platform.stop()
        sim.stop()
    # nothing of either host is left connected (its leases included)
    wait_until(lambda: _sessions(system_id) == 0, timeout=15, what="the hosts' database sessions to close")


def _sessions(system_id: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE %s OR application_name LIKE %s",
            [f"lease bind {system_id}/%", f"bind.{system_id}.%"],
        )
        return cursor.fetchone()[0]


def test_a_receiver_binds_only_once_it_holds_its_slot(tmp_path) -> None:
    """The RX receivers of a transmitter + receiver account lease slots 512 + i."""
    from plumbing.slot_lease import SlotLease
    from smpp_transport.management.commands.run_bind_workers import receiver_argv

    system_id = f"r{uuid.uuid4().hex[:10]}"
    sim = SimulatorThread(SimulatorConfig(accounts={system_id: "pw"}, rate_per_bind=0)).start()
    account = AccountFactory(system_id=system_id, smpp_password="pw", smpp_port=sim.port, binds=1, bind_mode="tx_rx")
    argv = receiver_argv(system_id, 0)
    assert argv[-2:] == ["--slot", "512"]
    holder = SlotLease(resource=account.id, slot=512, params=connection.get_connection_params())
    assert holder.acquire(timeout=5)
    platform = Platform(tmp_path)
    try:
        platform.start("rx", argv)
        try:
            wait_until(lambda: _waiting(platform, "rx") == 1, timeout=60, what="the receiver waiting")
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}\n{platform.logs()}") from None
        assert sim.counters["connections"] == 0
        holder.release()
        wait_until(lambda: [b["bind_type"] for b in sim.binds()] == ["rx"], timeout=30, what="the rx bind")
    finally:
        holder.release()
        platform.stop()
        sim.stop()


def test_a_bind_worker_waiting_for_its_slot_stops_warmly_on_sigterm(tmp_path) -> None:
    import signal

    from plumbing.slot_lease import SlotLease
    from smpp_transport.management.commands.run_bind_workers import bind_worker_argv

    system_id = f"w{uuid.uuid4().hex[:10]}"
    sim = SimulatorThread(SimulatorConfig(accounts={system_id: "pw"}, rate_per_bind=0)).start()
    account = AccountFactory(system_id=system_id, smpp_password="pw", smpp_port=sim.port, binds=1)
    holder = SlotLease(resource=account.id, slot=0, params=connection.get_connection_params())
    assert holder.acquire(timeout=5)
    platform = Platform(tmp_path)
    try:
        argv = bind_worker_argv(system_id, 0, concurrency=1, loglevel="INFO")
        worker = platform.start("bind", argv, SMPP_BIND_SYSTEM_ID=system_id, SMPP_BIND_SLOT="0")
        try:
            wait_until(lambda: _waiting(platform, "bind") == 1, timeout=60, what="the worker waiting")
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}\n{platform.logs()}") from None
        asked = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0, platform.logs()
        print(f"stopped {time.monotonic() - asked:.1f}s after SIGTERM")
        assert sim.counters["connections"] == 0
    finally:
        holder.release()
        platform.stop()
        sim.stop()
