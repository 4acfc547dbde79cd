"""Binds refused for capacity (ESME_RBINDFAIL) over real sockets: the simulator's per
system_id limit, and a Bind that waits and retries instead of giving up."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
import smpplib.client
import smpplib.exceptions

from smpp_transport.bind import Bind, BindConfig
from smpp_transport.session import codec
from smpp_transport.smsc import SimulatorConfig, SimulatorThread, pdu

pytestmark = pytest.mark.timeout(60)

ACCOUNTS = {"sys1": "pw1", "sys2": "pw2"}


@pytest.fixture
def make_sim() -> Iterator[Callable[..., SimulatorThread]]:
    sims: list[SimulatorThread] = []

    def make(**overrides) -> SimulatorThread:
        sim = SimulatorThread(SimulatorConfig(**{"accounts": dict(ACCOUNTS), "rate_per_bind": 0, **overrides}))
        sims.append(sim.start())
        return sim

    yield make
    for sim in sims:
        sim.stop()


@pytest.fixture
def make_bind() -> Iterator[Callable[..., Bind]]:
    binds: list[Bind] = []

    def make(sim: SimulatorThread, system_id: str = "sys1", **overrides) -> Bind:
        fields = {"rate_per_s": 0.0, "reconnect_min_s": 0.05, "reconnect_max_s": 0.5, **overrides}
        bind = Bind(BindConfig("127.0.0.1", sim.port, system_id, ACCOUNTS[system_id], **fields))
        binds.append(bind)
        return bind

    yield make
    for bind in binds:
        bind.stop(timeout=5)


def _client(sim: SimulatorThread, clients: list) -> smpplib.client.Client:
    client = smpplib.client.Client("127.0.0.1", sim.port, timeout=5, allow_unknown_opt_params=True)
    client.connect()
    clients.append(client)
    return client


def eventually(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
    return True


def test_rbindfail_is_not_an_auth_status() -> None:
    assert pdu.ESME_RBINDFAIL in codec.BIND_CAPACITY_STATUSES
    assert pdu.ESME_RBINDFAIL not in codec.AUTH_STATUSES
    assert {pdu.ESME_RINVPASWD, pdu.ESME_RINVSYSID} <= codec.AUTH_STATUSES


def test_the_simulator_refuses_binds_beyond_its_limit_per_system_id(make_sim) -> None:
    sim = make_sim(max_binds_per_system_id=2)
    clients: list[smpplib.client.Client] = []
    try:
        first, second = _client(sim, clients), _client(sim, clients)
        first.bind_transceiver(system_id="sys1", password="pw1")
        second.bind_transmitter(system_id="sys1", password="pw1")
        with pytest.raises(smpplib.exceptions.PDUError) as refused:
            _client(sim, clients).bind_receiver(system_id="sys1", password="pw1")
        assert refused.value.args[1] == pdu.ESME_RBINDFAIL
        # another system_id has its own allowance
        _client(sim, clients).bind_transceiver(system_id="sys2", password="pw2")
        assert sim.wait_for_binds(3)
        # once a session unbinds, its place is free again
        first.unbind()
        first.disconnect()
        assert eventually(lambda: len([b for b in sim.binds() if b["system_id"] == "sys1"]) == 1)
        _client(sim, clients).bind_transceiver(system_id="sys1", password="pw1")
        assert sim.wait_for_binds(3)
        assert sim.max_binds_seen("sys1") == 2 and sim.max_binds_seen("sys2") == 1
        assert sim.counters["bind_refusals"] == 1
    finally:
        for client in clients:
            client.disconnect()


def test_unlimited_by_default(make_sim) -> None:
    sim = make_sim()
    clients: list[smpplib.client.Client] = []
    try:
        for _ in range(5):
            _client(sim, clients).bind_transceiver(system_id="sys1", password="pw1")
        assert sim.wait_for_binds(5) and sim.max_binds_seen("sys1") == 5
    finally:
        for client in clients:
            client.disconnect()


def test_a_bind_refused_for_capacity_waits_and_binds_once_a_place_frees(make_sim, make_bind) -> None:
    sim = make_sim(max_binds_per_system_id=1)
    first = make_bind(sim)
    first.start(timeout=10)
    second = make_bind(sim, refused_backoff_max_s=1.0)
    with pytest.raises(TimeoutError):
        second.start(timeout=2.0)
    # refused, retried with backoff, never given up on
    assert second.stats["bind_refusals"] >= 2
    assert second.state in ("backoff", "connecting")
    assert "ESME_RBINDFAIL" in (second.last_error or "")
    assert second._thread.is_alive()
    refusals = sim.counters["bind_refusals"]
    assert refusals == second.stats["bind_refusals"]
    first.stop(timeout=5)
    assert eventually(lambda: second.state == "bound", timeout=10), second.last_error
    assert sim.max_binds_seen("sys1") == 1
    assert second.submit([]) == []


def test_the_backoff_after_refusals_grows_to_its_cap(make_sim, make_bind) -> None:
    sim = make_sim()
    bind = make_bind(sim, reconnect_min_s=0.5, refused_backoff_max_s=60.0)
    delays = [bind._backoff(n, bind.config.refused_backoff_max_s) for n in range(12)]
    assert all(0.5 <= d <= 60.0 for d in delays)
    assert max(bind._backoff(10, 60.0) for _ in range(200)) > 30.0  # capped at 60 s, not at reconnect_max_s
    assert max(bind._backoff(10) for _ in range(200)) <= 0.5
