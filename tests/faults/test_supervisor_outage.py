"""The real ``run_bind_workers`` through a database outage, and its SIGKILL.

On a private PostgreSQL (stopped for a while, then started again) the supervisor stays
alive, logs the failed refresh once, and once the database is back its bind workers hold
their slot leases and are bound again. SIGKILL of the supervisor then leaves no bind worker
alive within 5 s (PR_SET_PDEATHSIG, and the parent watch as fallback).
"""

from __future__ import annotations

import os
import signal
import sys
import time
import uuid
from pathlib import Path

import pytest

from smpp_transport.smsc import SimulatorConfig, SimulatorThread
from tests.e2e.harness import wait_until
from tests.faults.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

BINDS = 2


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _bound(sim: SimulatorThread, system_id: str) -> set[int]:
    return {b["bind_id"] for b in sim.binds() if b["system_id"] == system_id}


def test_supervisor_rides_out_a_database_outage_and_takes_its_binds_down_when_killed(tmp_path) -> None:
    system_id = f"o{uuid.uuid4().hex[:12]}"
    sim = SimulatorThread(SimulatorConfig(host="127.0.0.1", port=0, accounts={system_id: "opass"})).start()
    stack = Stack(tmp_path)
    try:
        stack.seed(
            [
                {
                    "system_id": system_id,
                    "password": "opass",
                    "port": sim.port,
                    "binds": BINDS,
                    "bind_mode": "trx",
                    "rate": 50,
                    "recipients": 1,
                    "prefix": "913",
                    "body": "Outage",
                }
            ]
        )
        p = stack.platform
        supervisor = p.start(
            "supervisor",
            [sys.executable, "manage.py", "run_bind_workers", "--system-id", system_id],
            SUPERVISOR_REFRESH_S="1",
            SLOT_LEASE_HEARTBEAT_S="1",
        )
        log = tmp_path / "supervisor.log"
        try:
            wait_until(lambda: len(_bound(sim, system_id)) == BINDS, timeout=120, what="the binds")
        except TimeoutError as exc:
            pytest.fail(f"{exc}\n{p.logs()}")
        before = _bound(sim, system_id)

        stack.pg._ctl("stop")  # the outage: every connection dropped, refreshes fail
        try:
            wait_until(lambda: b"refresh failed" in log.read_bytes(), timeout=60, what="a failed refresh")
            # the leases went with the database: the binds are fenced (stopped), not left unguarded
            wait_until(lambda: not (_bound(sim, system_id) & before), timeout=60, what="the fenced binds")
            # the fenced workers exit and the supervisor restarts them, the database still away
            wait_until(lambda: b"restarting in" in log.read_bytes(), timeout=60, what="a worker restarted")
            assert supervisor.poll() is None, "the supervisor died in the outage"
        finally:
            stack.pg._ctl("start")
        try:
            wait_until(lambda: b"refresh recovered" in log.read_bytes(), timeout=90, what="the refresh recovered")
            wait_until(lambda: len(_bound(sim, system_id)) == BINDS, timeout=90, what="the binds restored")
        except TimeoutError as exc:
            pytest.fail(f"{exc}\n{p.logs()}")
        assert supervisor.poll() is None
        assert log.read_text(errors="replace").count("refresh failed") == 1, "the outage was logged more than once"
        assert sim.max_binds_seen(system_id) <= BINDS

        children = _children(supervisor.pid)
        assert len(children) == BINDS, children
        os.kill(supervisor.pid, signal.SIGKILL)  # the supervisor only, not its process group
        supervisor.wait(timeout=10)
        deadline = time.monotonic() + 5
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.1)  # a bounded poll of /proc
        assert not [pid for pid in children if _alive(pid)], "a bind worker outlived its supervisor"
        wait_until(lambda: not _bound(sim, system_id), timeout=15, what="the SMSC to see the binds go")
    finally:
        stack.close()
        sim.stop()
