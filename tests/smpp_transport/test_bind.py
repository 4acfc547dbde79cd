"""The Bind against the SMSC simulator over real sockets.

Every wait is bounded and waits for an event (the simulator's condition, a result, a
collector's condition); nothing sleeps to synchronise.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from smpp_transport.bind import Bind, BindAuthError, BindConfig, InboundPdu, OutboundPart
from smpp_transport.receipts import parse_receipt
from smpp_transport.smsc import SimulatorConfig, SimulatorThread

pytestmark = pytest.mark.timeout(60)

SYSTEM_ID, PASSWORD = "sys1", "pw1"


class Inbox:
    """on_deliver collector that tests can wait on."""

    def __init__(self, fail: Callable[[InboundPdu], bool] | None = None) -> None:
        self.pdus: list[InboundPdu] = []
        self.calls = 0
        self._fail = fail
        self._cv = threading.Condition()

    def __call__(self, pdu: InboundPdu) -> None:
        with self._cv:
            self.calls += 1
            if self._fail is not None and self._fail(pdu):
                raise RuntimeError("inbox unavailable")
            self.pdus.append(pdu)
            self._cv.notify_all()

    def wait_for(self, n: int, timeout: float = 10.0) -> bool:
        with self._cv:
            return self._cv.wait_for(lambda: len(self.pdus) >= n, timeout)

    def receipt_ids(self) -> set[str]:
        ids = set()
        for pdu in self.pdus:
            receipt = parse_receipt(
                short_message=pdu.short_message, esm_class=pdu.esm_class, optional_params=pdu.optional_params
            )
            assert receipt is not None, pdu
            ids.add(receipt.message_id)
        return ids


def eventually(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Bounded wait for a condition that has no event of its own (bind stats)."""
    deadline = time.monotonic() + timeout
    tick = threading.Event()
    while not predicate():
        if time.monotonic() >= deadline:
            return False
        tick.wait(0.01)
    return True


def make_parts(n: int, *, start: int = 0, registered_delivery: int = 1) -> list[OutboundPart]:
    return [
        OutboundPart(
            ref=i,
            source_addr="Brand",
            source_addr_ton=5,
            source_addr_npi=0,
            destination_addr=f"4477009{i:05d}",
            short_message=f"hello {i}".encode(),
            registered_delivery=registered_delivery,
        )
        for i in range(start, start + n)
    ]


def index_of(record: dict) -> int:
    return int(record["destination_addr"][-5:])


def max_in_window(times: list[float], window: float = 1.0) -> int:
    times = sorted(times)
    best, j = 0, 0
    for i, start in enumerate(times):
        while j < len(times) and times[j] < start + window:
            j += 1
        best = max(best, j - i)
    return best


@pytest.fixture
def make_sim() -> Iterator[Callable[..., SimulatorThread]]:
    sims: list[SimulatorThread] = []

    def make(**overrides) -> SimulatorThread:
        fields = {"accounts": {SYSTEM_ID: PASSWORD}, "rate_per_bind": 0, "dlr_delay_s": 0.0}
        fields.update(overrides)
        sim = SimulatorThread(SimulatorConfig(**fields)).start()
        sims.append(sim)
        return sim

    yield make
    for sim in sims:
        sim.stop()


@pytest.fixture
def make_bind() -> Iterator[Callable[..., Bind]]:
    binds: list[Bind] = []

    def make(sim: SimulatorThread, *, on_deliver=None, start: bool = True, **overrides) -> Bind:
        fields = {
            "rate_per_s": 0.0,
            "reconnect_min_s": 0.05,
            "reconnect_max_s": 0.5,
            "response_timeout_s": 5.0,
            "connect_timeout_s": 5.0,
        }
        fields.update(overrides)
        config = BindConfig(
            "127.0.0.1", sim.port, fields.pop("system_id", SYSTEM_ID), fields.pop("password", PASSWORD), **fields
        )
        bind = Bind(config, on_deliver=on_deliver)
        binds.append(bind)
        if start:
            bind.start(timeout=10)
        return bind

    yield make
    for bind in binds:
        bind.stop(timeout=5)


def test_transmitter_submits_and_returns_provider_ids(make_sim, make_bind) -> None:
    sim = make_sim()
    bind = make_bind(sim, mode="tx")
    results = bind.submit(make_parts(25), timeout=10)
    assert [r.ref for r in results] == list(range(25))
    assert {r.outcome for r in results} == {"accepted"}
    by_index = {index_of(rec): rec for rec in sim.get_submits()}
    for r in results:
        record = by_index[r.ref]
        assert r.message_id == record["message_id"]
        assert (r.command_status, r.status_name) == (0, "ESME_ROK")
        assert record["bind_type"] == "tx" and record["source_addr"] == "Brand"
        assert bytes.fromhex(record["short_message_hex"]) == f"hello {r.ref}".encode()
    assert bind.stats["responses"] == {"ESME_ROK": 25}
    assert bind.stats["delivers"] == 0


def test_receipts_reach_the_other_bind_of_the_same_system_id(make_sim, make_bind) -> None:
    sim = make_sim()
    tx_inbox, rx_inbox = Inbox(), Inbox()
    tx = make_bind(sim, mode="tx", on_deliver=tx_inbox)
    rx = make_bind(sim, mode="rx", on_deliver=rx_inbox)
    assert sim.wait_for_binds(2)
    results = tx.submit(make_parts(10), timeout=10)
    assert {r.outcome for r in results} == {"accepted"}
    assert rx_inbox.wait_for(10)
    assert rx_inbox.receipt_ids() == {r.message_id for r in results}
    assert tx_inbox.calls == 0
    with pytest.raises(ValueError):
        rx.submit(make_parts(1))


def test_transceiver_submits_and_receives_receipts_and_mo(make_sim, make_bind) -> None:
    sim = make_sim()
    inbox = Inbox()
    bind = make_bind(sim, mode="trx", on_deliver=inbox)
    results = bind.submit(make_parts(10), timeout=10)
    assert {r.outcome for r in results} == {"accepted"}
    assert inbox.wait_for(10)
    assert inbox.receipt_ids() == {r.message_id for r in results}
    sim.send_mo(SYSTEM_ID, "447700900555", "Brand", b"STOP")
    assert inbox.wait_for(11)
    mo = inbox.pdus[-1]
    assert (mo.source_addr, mo.destination_addr, mo.short_message) == ("447700900555", "Brand", b"STOP")
    assert (
        parse_receipt(short_message=mo.short_message, esm_class=mo.esm_class, optional_params=mo.optional_params)
        is None
    )
    assert sim.wait_for_counter("receipts_acked", 10) and sim.wait_for_counter("mo_acked", 1)


def test_bad_password_stops_at_once_without_a_retry_loop(make_sim, make_bind) -> None:
    sim = make_sim()
    bind = make_bind(sim, password="wrong", start=False)
    started = time.monotonic()
    with pytest.raises(BindAuthError, match="ESME_RINVPASWD"):
        bind.start(timeout=10)
    assert time.monotonic() - started < 2.0
    assert bind.state == "auth_failed"
    assert "ESME_RINVPASWD" in bind.last_error and "wrong" not in bind.last_error
    # The session thread has ended: there is no loop left that could bind again.
    bind._thread.join(2.0)
    assert not bind._thread.is_alive()
    counters = sim.counters
    assert counters["connections"] == 1 and counters["bind_failures"] == 1
    assert [r.outcome for r in bind.submit(make_parts(2))] == ["retry", "retry"]


def test_never_more_than_window_submits_outstanding(make_sim, make_bind) -> None:
    delay = 0.1
    sim = make_sim(resp_delay_s=delay)
    bind = make_bind(sim, mode="tx", window=3)
    results = bind.submit(make_parts(15), timeout=20)
    assert {r.outcome for r in results} == {"accepted"}
    assert bind.stats["window_high_water"] == 3
    # The SMSC's view: the 4th submit can only arrive once the 1st was answered.
    times = [rec["ts"] for rec in sim.get_submits()]
    assert min(b - a for a, b in zip(times, times[3:], strict=False)) >= delay * 0.8


def test_pacing_keeps_every_one_second_window_within_the_rate(make_sim, make_bind) -> None:
    sim = make_sim(rate_per_bind=50)
    # The simulator shares this process (and its GIL) with the bind and stamps arrivals
    # after its own scheduling: on a busy machine that delays stamps by milliseconds. The
    # default guard is enough: the pacer bounds each stamp by the time its answer was read.
    bind = make_bind(sim, mode="tx", rate_per_s=50)
    results = bind.submit(make_parts(150, registered_delivery=0), timeout=30)
    assert {r.outcome for r in results} == {"accepted"}
    times = sorted(rec["ts"] for rec in sim.get_submits())
    assert max_in_window(times) <= 50
    span = times[-1] - times[0]
    assert span >= 2.0  # 150 at 50/s: three one-second generations, no bursts
    assert 149 / span > 45  # and no needless slowness
    assert sim.counters.get("throttled", 0) == 0 and bind.stats["throttles"] == 0


def test_throttling_smsc_pauses_the_bind_without_loss_or_reordering(make_sim, make_bind):
    sim = make_sim(rate_per_bind=20)
    bind = make_bind(sim, mode="tx", rate_per_s=50, throttle_pause_s=0.3)
    results = bind.submit(make_parts(60, registered_delivery=0), timeout=40)
    assert [r.outcome for r in results] == ["accepted"] * 60
    records = sim.get_submits()
    assert sim.counters["throttled"] >= 1 and bind.stats["throttles"] >= 1
    accepted = [index_of(rec) for rec in records if rec["command_status"] == 0]
    assert accepted == list(range(60))  # each once, in submission order
    by_index = {index_of(rec): rec["message_id"] for rec in records if rec["command_status"] == 0}
    assert all(r.message_id == by_index[r.ref] for r in results)


@pytest.mark.parametrize("failure", ["restart", "drop"])
def test_smsc_restart_mid_send_is_survived(make_sim, make_bind, failure: str) -> None:
    sim = make_sim()
    window = 10
    bind = make_bind(sim, mode="tx", rate_per_s=200, window=window)
    parts = make_parts(300, registered_delivery=0)
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(bind.submit, parts, timeout=40)
        assert sim.wait_for_submits(60, 10)
        if failure == "restart":
            sim.restart()
        else:
            sim.drop_connections()
        results = future.result(timeout=45)
    outcomes = Counter(r.outcome for r in results)
    assert set(outcomes) <= {"accepted", "unknown"}
    assert outcomes["unknown"] <= window
    assert bind.stats["reconnects"] >= 1 and bind.stats["binds"] >= 2
    records = sim.get_submits()
    seen = Counter(index_of(rec) for rec in records)
    assert max(seen.values()) == 1  # nothing written was ever sent twice
    ids = {index_of(rec): rec["message_id"] for rec in records if rec["command_status"] == 0}
    for r in results:
        if r.outcome == "accepted":
            assert ids[r.ref] == r.message_id
        assert seen[r.ref] <= 1
    # Parts not yet written at the drop were sent after the reconnect, not dropped.
    assert sum(1 for r in results if r.outcome == "accepted") >= len(parts) - window


def test_unknown_tlv_in_a_receipt_does_not_lose_it(make_sim, make_bind) -> None:
    sim = make_sim(extra_tlv_in_receipts=True)
    inbox = Inbox()
    bind = make_bind(sim, on_deliver=inbox)
    results = bind.submit(make_parts(5), timeout=10)
    assert inbox.wait_for(5)
    assert all("tlv_0x1400" in pdu.optional_params for pdu in inbox.pdus)
    assert inbox.receipt_ids() == {r.message_id for r in results}
    assert sim.wait_for_counter("receipts_acked", 5)


def test_idle_bind_survives_on_enquire_link(make_sim, make_bind) -> None:
    # The simulator closes a bind that stays silent for 2 x 0.4 s.
    sim = make_sim(enquire_link_timeout_s=0.4)
    bind = make_bind(sim, mode="tx", enquire_link_s=0.2)
    assert sim.wait_for_counter("enquire_links", 6, timeout=10)  # > 1.2 s of idleness
    stats = bind.stats
    assert stats["enquire_link_resps"] >= 5 and stats["last_enquire_link_resp_at"] is not None
    assert stats["reconnects"] == 0 and sim.counters["connections"] == 1
    assert [r.outcome for r in bind.submit(make_parts(3), timeout=10)] == ["accepted"] * 3


def test_failing_on_deliver_is_nacked_and_the_smsc_redelivers(make_sim, make_bind) -> None:
    sim = make_sim(receipt_retry_delay_s=0.05)
    failed_once: set[bytes] = set()

    def fail_first_time(pdu: InboundPdu) -> bool:
        key = pdu.optional_params.get("receipted_message_id")
        if key in failed_once:
            return False
        failed_once.add(key)
        return True

    inbox = Inbox(fail=fail_first_time)
    bind = make_bind(sim, on_deliver=inbox)
    results = bind.submit(make_parts(3), timeout=10)
    assert inbox.wait_for(3)
    assert inbox.receipt_ids() == {r.message_id for r in results}
    assert bind.stats["deliver_errors"] == 3
    counters = sim.counters
    assert counters["deliver_nacks"] >= 3 and counters["redeliveries"] >= 3


def test_response_timeout_gives_unknown_and_the_bind_carries_on(make_sim, make_bind) -> None:
    sim = make_sim(resp_delay_s=1.5)
    bind = make_bind(sim, mode="tx", response_timeout_s=0.3)
    started = time.monotonic()
    results = bind.submit(make_parts(3), timeout=10)
    assert [r.outcome for r in results] == ["unknown"] * 3
    assert time.monotonic() - started < 1.4
    assert bind.stats["timeouts"] == 3
    sim.set_resp_delay(0.0)
    assert eventually(lambda: bind.stats["late_responses"] == 3)
    assert eventually(lambda: bind.state == "bound")
    later = bind.submit(make_parts(3, start=3), timeout=10)
    assert [r.outcome for r in later] == ["accepted"] * 3


def test_permanent_and_transient_statuses(make_sim, make_bind) -> None:
    sim = make_sim(reject_destinations={"447700900000": 0x0B, "447700900001": 0x08})
    bind = make_bind(sim, mode="tx")
    results = bind.submit(make_parts(3), timeout=10)
    assert [(r.outcome, r.command_status, r.status_name) for r in results] == [
        ("failed", 0x0B, "ESME_RINVDSTADR"),
        ("retry", 0x08, "ESME_RSYSERR"),
        ("accepted", 0, "ESME_ROK"),
    ]
    assert results[0].message_id is None and results[2].message_id


def test_stop_drains_the_window_then_unbinds(make_sim, make_bind) -> None:
    sim = make_sim(resp_delay_s=0.3)
    bind = make_bind(sim, mode="tx", window=2)
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(bind.submit, make_parts(6), timeout=20)
        assert sim.wait_for_submits(2)
        bind.stop(timeout=5)
        results = future.result(timeout=10)
    # The two on the wire were drained (answered), the queued ones handed back untouched.
    assert [r.outcome for r in results] == ["accepted"] * 2 + ["retry"] * 4
    assert bind.state == "stopped" and not bind._thread.is_alive()
    assert sim.wait_for(lambda: not sim.binds(), 5)
    assert sim.counters["submits"] == 2


def test_smsc_down_at_start_then_back(make_sim, make_bind) -> None:
    sim = make_sim()
    sim.stop()
    bind = make_bind(sim, start=False)
    with pytest.raises(TimeoutError):
        bind.start(timeout=0.3)
    assert bind.state in ("backoff", "connecting") and "failed" in bind.last_error
    with pytest.raises(RuntimeError):
        bind.start(wait=False)
    started = time.monotonic()
    results = bind.submit(make_parts(3), timeout=0.3)
    assert [r.outcome for r in results] == ["retry"] * 3
    assert time.monotonic() - started < 2.0
    sim.start()  # same port
    assert eventually(lambda: bind.state == "bound")
    assert [r.outcome for r in bind.submit(make_parts(2), timeout=10)] == ["accepted"] * 2
