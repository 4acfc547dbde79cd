"""Fixtures for the SMSC simulator tests (test_smsc_*.py): simulators, smpplib clients and raw
sockets, each closed after the test. test_bind.py keeps its own make_sim (one account, no
receipt delay), which overrides this one there."""

from __future__ import annotations

import pytest
import smpplib.client

from smpp_transport.smsc import SimulatorConfig, SimulatorThread
from tests.smpp_transport.smsc_client import ACCOUNTS, RawClient


@pytest.fixture
def make_sim():
    """Start simulators with test defaults (unthrottled); stop them all afterwards."""
    sims: list[SimulatorThread] = []

    def factory(**overrides) -> SimulatorThread:
        options = {"accounts": dict(ACCOUNTS), "rate_per_bind": 0.0, **overrides}
        sim = SimulatorThread(SimulatorConfig(**options)).start()
        sims.append(sim)
        return sim

    yield factory
    for sim in sims:
        sim.stop()


@pytest.fixture
def connect():
    """Open smpplib clients (optionally bound); disconnect them all afterwards."""
    clients: list[smpplib.client.Client] = []

    def factory(sim, bind=None, system_id="sys1", password=None, ssl_context=None):
        client = smpplib.client.Client(
            "127.0.0.1",
            sim.port,
            timeout=5,
            allow_unknown_opt_params=True,
            ssl_context=ssl_context,
        )
        client.connect()
        clients.append(client)
        if bind:
            getattr(client, f"bind_{bind}")(system_id=system_id, password=password or ACCOUNTS[system_id])
        return client

    yield factory
    for client in clients:
        client.disconnect()


@pytest.fixture
def raw():
    socks: list[RawClient] = []

    def factory(sim) -> RawClient:
        socks.append(RawClient(sim.port))
        return socks[-1]

    yield factory
    for s in socks:
        s.close()
