"""Regression tests: a broker restart and a database restart under a running campaign.

Each runs the real processes (beat, dispatch worker, bind workers) on a private PostgreSQL
cluster and a private RabbitMQ node, against the SMSC simulator, and restarts one of them
mid-campaign: the campaign completes, nothing is lost, nothing is sent twice.
"""

from __future__ import annotations

import uuid

import pytest

from smpp_transport.smsc import SimulatorConfig, SimulatorThread
from tests.faults.stack import Stack, finish_and_check

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

N = 600


@pytest.fixture
def running(tmp_path):
    system_id = f"f{uuid.uuid4().hex[:12]}"
    sim = SimulatorThread(
        SimulatorConfig(host="127.0.0.1", port=0, accounts={system_id: "fpass"}, rate_per_bind=50.0, dlr_delay_s=0.2)
    ).start()
    stack = Stack(tmp_path)
    try:
        [campaign_id] = stack.seed(
            [
                {
                    "system_id": system_id,
                    "password": "fpass",
                    "port": sim.port,
                    "binds": 2,
                    "bind_mode": "trx",
                    "rate": 50,
                    "recipients": N,
                    "prefix": "911",
                    "body": "Fault test",
                }
            ]
        )
        p = stack.platform
        p.start_dispatch_worker()
        p.start_bind_worker(system_id, 0)
        p.start_bind_worker(system_id, 1)
        assert sim.wait_for_binds(2, timeout=90), p.logs()
        p.start_beat()
        stack.send_now([campaign_id])
        yield stack, sim, campaign_id
    finally:
        stack.close()
        sim.stop()


def test_rabbitmq_restart_mid_campaign(running) -> None:
    stack, sim, campaign_id = running
    assert sim.wait_for_submits(150, timeout=120), stack.platform.logs()
    stack.rabbit.restart()
    finish_and_check(stack, sim, campaign_id, N)


def test_postgresql_restart_mid_campaign(running) -> None:
    stack, sim, campaign_id = running
    assert sim.wait_for_submits(150, timeout=120), stack.platform.logs()
    stack.pg.restart()
    finish_and_check(stack, sim, campaign_id, N)
