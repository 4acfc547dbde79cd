"""The bind worker and its slot: it binds only while it holds the slot's lease (real
PostgreSQL), stops its bind when the lease is lost, and a bind refused for capacity waits
without stopping the account (real sockets to the simulator)."""

from __future__ import annotations

import logging
import threading
import time
import uuid

import psycopg
import pytest
from django.db import connection
from django.test import override_settings

from campaigns.models import Account
from plumbing.slot_lease import SlotLease
from smpp_transport import bind_slot, worker
from smpp_transport.bind import Bind, BindConfig
from smpp_transport.smsc import SimulatorConfig, SimulatorThread
from tests.e2e.harness import wait_until
from tests.factories import AccountFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(90)]


@pytest.fixture(autouse=True)
def _info_logs(caplog) -> None:
    caplog.set_level(logging.INFO, logger="plumbing.slot_lease")


@pytest.fixture
def account_and_sim():
    system_id = f"s{uuid.uuid4().hex[:10]}"
    sim = SimulatorThread(SimulatorConfig(accounts={system_id: "pw"}, max_binds_per_system_id=1)).start()
    account = AccountFactory(system_id=system_id, smpp_password="pw", smpp_port=sim.port, binds=2)
    yield account, sim
    worker.close_bind()
    sim.stop()


def _bound(sim: SimulatorThread, system_id: str) -> int:
    return len([b for b in sim.binds() if b["system_id"] == system_id])


def _open_in_thread(**kwargs) -> tuple[threading.Thread, list]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            worker.open_bind(kwargs.pop("system_id"), "trx", **kwargs)
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, errors


def test_a_bind_refused_for_capacity_waits_and_does_not_stop_the_account(account_and_sim) -> None:
    account, sim = account_and_sim
    other = Bind(BindConfig("127.0.0.1", sim.port, account.system_id, "pw", rate_per_s=0))
    other.start(timeout=10)  # the account's one allowed session, held elsewhere
    try:
        thread, errors = _open_in_thread(system_id=account.system_id)
        wait_until(lambda: sim.counters["bind_refusals"] >= 2, timeout=20, what="a retried refusal")
        account.refresh_from_db()
        assert account.smpp_stopped_reason == "", "a capacity refusal stopped the account"
    finally:
        other.stop(timeout=5)
    thread.join(30)
    assert not thread.is_alive() and not errors
    wait_until(lambda: worker._bind is not None and worker._bind.state == "bound", timeout=30, what="bound")
    assert sim.max_binds_seen(account.system_id) == 1
    assert Account.objects.get(pk=account.pk).smpp_stopped_reason == ""


def test_bad_credentials_still_stop_the_account(account_and_sim) -> None:
    account, sim = account_and_sim
    account.smpp_password = "nope"
    account.save()
    worker.open_bind(account.system_id, "trx")
    assert worker._bind.state == "auth_failed"
    assert "ESME_RINVPASWD" in Account.objects.get(pk=account.pk).smpp_stopped_reason


@override_settings(SLOT_LEASE_HEARTBEAT_S=0.2)
def test_the_worker_binds_only_once_its_slot_is_leased_and_fences_when_it_is_lost(
    account_and_sim, monkeypatch, caplog
) -> None:
    account, sim = account_and_sim
    stopped: list[str] = []
    monkeypatch.setattr(bind_slot, "stop_this_worker", stopped.append)  # not this test process
    holder = SlotLease(resource=account.id, slot=1, params=connection.get_connection_params())
    assert holder.acquire(timeout=5)  # another host holds slot 1
    try:
        thread, errors = _open_in_thread(system_id=account.system_id, slot=1)
        wait_until(lambda: "held elsewhere" in caplog.text, timeout=15, what="the worker waiting for its slot")
        assert thread.is_alive() and sim.counters["connections"] == 0, "bound without the slot"
    finally:
        holder.release()  # that host is gone: its connection closed
    thread.join(20)
    assert not thread.is_alive() and not errors
    assert worker._bind.state == "bound" and _bound(sim, account.system_id) == 1
    # The lease is lost (its backend killed, as when the database restarts): fencing.
    pid = worker._lease._conn.info.backend_pid
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    wait_until(lambda: bool(stopped), timeout=15, what="fencing")
    assert worker._bind.state == "stopped"
    wait_until(lambda: _bound(sim, account.system_id) == 0, timeout=5, what="the session closed")
    assert "lease lost" in stopped[0]


def test_a_worker_asked_to_stop_while_waiting_gives_up_the_wait(account_and_sim, caplog) -> None:
    account, sim = account_and_sim
    holder = SlotLease(resource=account.id, slot=0, params=connection.get_connection_params())
    assert holder.acquire(timeout=5)
    stop = threading.Event()
    try:
        thread, errors = _open_in_thread(system_id=account.system_id, slot=0, should_stop=stop.is_set)
        wait_until(lambda: "held elsewhere" in caplog.text, timeout=15, what="the worker waiting for its slot")
        stop.set()
        thread.join(15)
    finally:
        holder.release()
    assert not thread.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], worker.SlotNotLeased)
    assert worker._bind is None and sim.counters["connections"] == 0


def test_a_slot_beyond_the_accounts_binds_is_not_bound_until_the_account_has_as_many(
    account_and_sim, monkeypatch, caplog
) -> None:
    account, sim = account_and_sim  # binds = 2: slots 0 and 1
    monkeypatch.setattr(bind_slot, "_RECHECK_BINDS_S", 0.5)
    caplog.set_level(logging.INFO, logger="smpp_transport.bind_slot")
    thread, errors = _open_in_thread(system_id=account.system_id, slot=3)
    wait_until(lambda: "fewer binds" in caplog.text, timeout=15, what="the worker holding back")
    assert thread.is_alive() and sim.counters["connections"] == 0
    account.binds = 4
    account.save()
    thread.join(20)
    assert not thread.is_alive() and not errors
    wait_until(lambda: worker._bind.state == "bound", timeout=15, what="bound on slot 3")


def test_test_connection_says_at_once_that_the_provider_takes_no_more_binds(account_and_sim) -> None:
    from smpp_transport.probe import probe

    account, sim = account_and_sim
    other = Bind(BindConfig("127.0.0.1", sim.port, account.system_id, "pw", rate_per_s=0))
    other.start(timeout=10)
    try:
        started = time.monotonic()
        check = probe(account.system_id)
        assert time.monotonic() - started < 5
    finally:
        other.stop(timeout=5)
    assert not check.ok and "accepts no more binds" in check.summary and "ESME_RBINDFAIL" in check.summary
    assert Account.objects.get(pk=account.pk).smpp_stopped_reason == ""
