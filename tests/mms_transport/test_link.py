"""The worker's link: pacing on absolute deadlines, NOOP after idling, reconnects, a refused login
that stops for good (one AUTH attempt), and a bounded wait while the provider is down."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from mms_transport.client import AuthRefused, Endpoint
from mms_transport.link import Link, Pacer
from tests.mms_transport.conftest import API_KEY, SYSTEM_ID
from tests.mms_transport.test_client import FROM, TO, message

pytestmark = pytest.mark.timeout(60)


def link_for(port: int, *, key: str = API_KEY, rate: float = 0.0, **options) -> Link:
    endpoint = Endpoint("127.0.0.1", port, SYSTEM_ID, key, tls=False, timeout_s=5)
    options = {"backoff_min_s": 0.02, "backoff_max_s": 0.1, **options}
    return Link(endpoint, rate_per_s=rate, **options)


def test_pacer_hands_out_absolute_deadlines_and_never_bursts_to_catch_up() -> None:
    pacer = Pacer(10)
    assert [pacer.reserve(0.0) for _ in range(3)] == pytest.approx([0.0, 0.1, 0.2])
    assert pacer.reserve(0.35) == pytest.approx(0.35)  # 50 ms late: goes now...
    assert pacer.reserve(0.35) == pytest.approx(0.4)  # ...and the schedule did not slip
    assert pacer.reserve(5.0) == pytest.approx(5.0)  # idle for a while: re-anchored, no burst
    assert pacer.reserve(5.0) == pytest.approx(5.1)
    assert Pacer(0).reserve(3.0) == 3.0


def test_messages_leave_at_the_account_rate(make_sim) -> None:
    sim = make_sim()
    link = link_for(sim.port, rate=20)
    try:
        results = [link.submit(FROM, TO, message()) for _ in range(11)]
    finally:
        link.close()
    assert {r.outcome for r in results} == {"accepted"}
    stamps = [m["ts"] for m in sim.messages]
    assert stamps[-1] - stamps[0] >= 10 / 20 * 0.95  # 11 messages at 20/s span at least 0.5 s
    assert sim.counters["connections"] == 1  # one session held across messages


def test_threads_share_one_session(make_sim) -> None:
    sim = make_sim()
    link = link_for(sim.port)
    try:
        threads = [
            threading.Thread(target=lambda: [link.submit(FROM, TO, message()) for _ in range(5)]) for _ in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        link.close()
    assert sim.counters["accepted"] == 20 and sim.counters["connections"] == 1


def test_a_dropped_session_is_found_by_noop_and_reopened(make_sim) -> None:
    sim = make_sim()
    link = link_for(sim.port, idle_test_s=0.0)
    try:
        assert link.submit(FROM, TO, message()).outcome == "accepted"
        sim.drop_connections()
        assert sim.wait_for(lambda: sim.open_connections == 0)
        assert link.submit(FROM, TO, message()).outcome == "accepted"  # NOOP failed → reconnected first
    finally:
        link.close()
    assert link.connects == 2 and sim.counters["accepted"] == 2


def test_a_refused_login_stops_the_link_after_one_attempt(make_sim) -> None:
    sim = make_sim()
    link = link_for(sim.port, key="wrong")
    try:
        assert not link.open()
        for _ in range(3):
            with pytest.raises(AuthRefused):
                link.submit(FROM, TO, message())
        assert sim.counters["auth_attempts"] == 1 and sim.counters["connections"] == 1
        link.reconfigure(Endpoint("127.0.0.1", sim.port, SYSTEM_ID, API_KEY, tls=False, timeout_s=5), 0.0)
        assert link.submit(FROM, TO, message()).outcome == "accepted"  # a corrected key works at once
    finally:
        link.close()


def test_a_provider_that_is_down_costs_a_bounded_wait_then_fast_retries(make_sim) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    link = link_for(port, connect_wait_s=0.3)
    try:
        started = time.monotonic()
        first = link.submit(FROM, TO, message())
        waited = time.monotonic() - started
        second_started = time.monotonic()
        second = link.submit(FROM, TO, message())
        assert (first.outcome, second.outcome) == ("retry", "retry")
        assert "cannot connect" in first.reply
        assert 0.3 <= waited < 5 and time.monotonic() - second_started < 0.5
    finally:
        link.close()


def test_the_link_comes_back_when_the_provider_restarts(make_sim) -> None:
    sim = make_sim()
    port = sim.port
    link = link_for(port)
    try:
        assert link.submit(FROM, TO, message()).outcome == "accepted"
        sim.stop()  # the provider goes away with our session
        again = make_sim(port=port)
        lost = link.submit(FROM, TO, message())
        assert lost.outcome == "retry" and "connection lost before the data" in lost.reply
        assert link.submit(FROM, TO, message()).outcome == "accepted"  # reconnected within the grace period
    finally:
        link.close()
    assert link.connects == 2 and again.counters["accepted"] == 1
