"""Scale-out across hosts: two machines, each running ``run_bind_workers`` for one 4-bind
account, share its slots; when one dies the other takes its slots over.

The hosts are network namespaces made by the test (tests/faults/netns.py): each reaches
the private PostgreSQL, the private RabbitMQ and the SMSC simulator only over its veth, at
the bridge's address, as a second machine would. Beat and the dispatch worker run outside
both. A machine that cannot make namespaces fails this test with the reason (no skip).
"""

from __future__ import annotations

import collections
import sys
import time
import uuid

import pytest

from smpp_transport.smsc import SimulatorConfig, SimulatorThread
from tests.e2e.harness import wait_until
from tests.faults.netns import NamespacesUnavailable, make_hosts
from tests.faults.stack import Stack, finish_and_check

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

BINDS, RATE, N = 4, 50, 4000  # 20 s of sending at 4 × 50/s


def _peers(sim: SimulatorThread, system_id: str) -> collections.Counter:
    """The account's bound sessions by the address they come from."""
    return collections.Counter(b["peer"].rsplit(":", 1)[0] for b in sim.binds() if b["system_id"] == system_id)


def _waiting(stack: Stack, host: str) -> int:
    log = stack.tmp / f"{host}.log"
    return log.read_text(errors="replace").count("held elsewhere; waiting") if log.exists() else 0


def test_two_hosts_share_the_slots_and_the_survivor_takes_over_a_dead_hosts_binds(tmp_path) -> None:
    try:
        hosts = make_hosts(2)
    except NamespacesUnavailable as exc:
        pytest.fail(str(exc))
    system_id = f"n{uuid.uuid4().hex[:12]}"
    sim = SimulatorThread(
        SimulatorConfig(
            host=hosts.bridge_ip, port=0, accounts={system_id: "npass"}, rate_per_bind=float(RATE), dlr_delay_s=0.2
        )
    ).start()
    stack = None
    try:
        stack = Stack(tmp_path, also_listen=hosts.bridge_ip)
        [campaign_id] = stack.seed(
            [
                {
                    "system_id": system_id,
                    "password": "npass",
                    "host": hosts.bridge_ip,
                    "port": sim.port,
                    "binds": BINDS,
                    "bind_mode": "trx",
                    "rate": RATE,
                    "recipients": N,
                    "prefix": "912",
                    "body": "Two hosts",
                }
            ]
        )
        p = stack.platform
        on_the_network = {
            "DATABASE_URL": stack.pg.url.replace("127.0.0.1", hosts.bridge_ip),
            "CELERY_BROKER_URL": stack.rabbit.url.replace("127.0.0.1", hosts.bridge_ip),
            "SLOT_LEASE_HEARTBEAT_S": "1",
        }
        argv = [sys.executable, "manage.py", "run_bind_workers", "--system-id", system_id]
        p.start_dispatch_worker()
        p.start("host-0", hosts.argv(0, argv), **on_the_network)
        try:
            wait_until(lambda: sum(_peers(sim, system_id).values()) == BINDS, timeout=120, what="host 0's binds")
            p.start("host-1", hosts.argv(1, argv), **on_the_network)
            wait_until(lambda: _waiting(stack, "host-1") == BINDS, timeout=120, what="host 1's workers waiting")
        except TimeoutError as exc:
            pytest.fail(f"{exc}\n{p.logs()}")
        assert _peers(sim, system_id) == {hosts.address(0): BINDS}
        p.start_beat()
        stack.send_now([campaign_id])
        assert sim.wait_for_submits(N // 4, timeout=120), p.logs()

        killed_at = time.monotonic()
        assert hosts.kill(0), "host 0 had no processes to kill"
        try:
            wait_until(
                lambda: _peers(sim, system_id) == {hosts.address(1): BINDS},
                timeout=30,
                interval=0.2,
                what="host 1 bound every slot",
            )
        except TimeoutError as exc:
            pytest.fail(f"the survivor did not take the slots over: {exc}\n{p.logs()}")
        takeover_s = time.monotonic() - killed_at
        finish_and_check(stack, sim, campaign_id, N)
        assert sim.max_binds_seen(system_id) <= BINDS, "the SMSC saw more sessions than the account's binds"
        print(f"takeover in {takeover_s:.1f} s")
    finally:
        hosts.close()
        if stack is not None:
            stack.close()
        sim.stop()
