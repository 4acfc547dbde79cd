"""Unit tests of the absolute-deadline pacer, on a fake clock (no sleeping, no threads)."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smpp_transport.session.pacing import Pacer


def drive(pacer: Pacer, count: int, *, start: float = 0.0, lateness=lambda k: 0.0) -> list[float]:
    """Send ``count`` segments as soon as allowed, each ``lateness(k)`` seconds late."""
    now = start
    sent: list[float] = []
    for k in range(count):
        now = max(now, pacer.earliest(now)) + lateness(k)
        pacer.record(now)
        sent.append(now)
    return sent


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """Most sends in any half-open window [t, t + window) starting at a send."""
    best = 0
    j = 0
    for i, start in enumerate(times):
        while j < len(times) and times[j] < start + window:
            j += 1
        best = max(best, j - i)
    return best


def test_on_time_sender_follows_absolute_deadlines() -> None:
    times = drive(Pacer(50.0), 150, start=10.0)
    assert times == pytest.approx([10.0 + k / 50 for k in range(150)], abs=1e-9)
    assert max_in_window(times) == 50


def test_late_sends_do_not_drift() -> None:
    # Each send 0.5 ms late: a relative-sleep pacer loses it on every send and falls to
    # 1 / 0.0205 = 48.8/s; here lateness costs at most once per window (50 / 1.0005).
    times = drive(Pacer(50.0), 3000, lateness=lambda k: 0.0005)
    achieved = (len(times) - 1) / (times[-1] - times[0])
    assert achieved > 49.95
    assert max_in_window(times) <= 50


def test_one_late_send_followed_by_on_time_ones_stays_within_the_window() -> None:
    # The case absolute deadlines alone get wrong: send 0 is 15 ms late, the rest on time,
    # so without the send log the window starting at send 0 would hold 51.
    times = drive(Pacer(50.0), 200, lateness=lambda k: 0.015 if k == 0 else 0.0)
    assert max_in_window(times) <= 50


def test_random_jitter_keeps_the_cap_and_the_rate() -> None:
    rng = random.Random(7)
    times = drive(Pacer(50.0), 50 * 60, lateness=lambda k: rng.uniform(0, 0.004))
    assert max_in_window(times) <= 50
    achieved = len(times) / (times[-1] - times[0] + 1 / 50)
    assert 49.5 <= achieved <= 50.0


def test_idle_reanchors_instead_of_catching_up() -> None:
    pacer = Pacer(10.0)
    first = drive(pacer, 5, start=0.0)
    # Idle for 7 s, then five more: they must be spaced by 1/rate from the new start.
    second = drive(pacer, 5, start=first[-1] + 7.0)
    assert second == pytest.approx([first[-1] + 7.0 + k / 10 for k in range(5)])


def test_stalled_sender_does_not_burst_after_the_stall() -> None:
    pacer = Pacer(20.0)
    times = drive(pacer, 40, lateness=lambda k: 0.5 if k == 10 else 0.0)
    gaps = [b - a for a, b in zip(times[10:], times[11:], strict=False)]
    assert min(gaps) == pytest.approx(1 / 20)


def test_pause_blocks_then_reanchors() -> None:
    pacer = Pacer(50.0)
    drive(pacer, 10)
    pacer.pause_until(5.0)
    assert pacer.earliest(1.0) == 5.0
    after = drive(pacer, 3, start=1.0)
    assert after == pytest.approx([5.0, 5.02, 5.04])


def test_unpaced_only_honours_pauses() -> None:
    pacer = Pacer(0)
    assert not pacer.paced
    assert drive(pacer, 3, start=2.0) == [2.0, 2.0, 2.0]
    pacer.pause_until(3.0)
    assert pacer.earliest(2.5) == 3.0
    assert pacer.earliest(3.5) == 3.5


def test_fractional_rate_caps_at_ceil() -> None:
    pacer = Pacer(2.5)
    assert pacer.max_per_window == 3
    times = drive(pacer, 50, lateness=lambda k: 0.05 if k % 3 == 0 else 0.0)
    assert max_in_window(times) <= 3


def test_negative_rate_is_rejected() -> None:
    with pytest.raises(ValueError):
        Pacer(-1)


@settings(max_examples=200, deadline=None)
@given(
    rate=st.floats(min_value=0.5, max_value=500, allow_nan=False),
    delays=st.lists(
        st.one_of(
            st.just(0.0), st.floats(min_value=0, max_value=0.05), st.floats(min_value=0.05, max_value=3.0)
        ),
        min_size=1,
        max_size=400,
    ),
)
def test_no_window_ever_exceeds_ceil_rate(rate: float, delays: list[float]) -> None:
    pacer = Pacer(rate)
    times = drive(pacer, len(delays), start=100.0, lateness=lambda k: delays[k])
    assert max_in_window(times) <= math.ceil(round(rate, 9))
    assert all(b >= a for a, b in zip(times, times[1:], strict=False))


def test_guard_stretches_the_window_and_costs_rate_times_guard() -> None:
    pacer = Pacer(50.0, guard_s=0.005)
    times = drive(pacer, 50 * 20)
    # Any 50 consecutive sends span at least 1.005 s: jitter up to 5 ms on the SMSC's side
    # cannot put 51 in its one-second window.
    assert min(b - a for a, b in zip(times, times[50:], strict=False)) >= 1.005 - 1e-9
    achieved = len(times) / (times[-1] - times[0] + 1 / 50)
    assert 49.7 <= achieved <= 49.8
