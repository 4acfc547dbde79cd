"""Pacing of submit_sm on absolute deadlines, counting segments.

Why not a sleep between sends: a relative sleep drifts (every late wake-up is lost for
good), so a bind configured for 50/s ends up at 47/s. Why not a plain token bucket with a
burst: the provider's limit is "N per second per bind" and SMSCs check it with a sliding
one-second window; any burst above N in any window earns ESME_RTHROTTLED.

The pacer therefore combines two rules, both on the caller's clock:

* absolute deadlines: the k-th segment since the anchor ``t0`` is not sent before
  ``t0 + k / rate``. A late send does not push later deadlines back, so scheduling jitter
  does not turn into drift;
* a log of the last ``ceil(rate)`` send times: a send never happens earlier than one
  window (1 s + ``guard_s``) after the send ``ceil(rate)`` places before it. Deadlines
  alone would let a late send and an on-time send crowd together (a send 15 ms late followed
  by one on time puts N+1 sends in some one-second window); the log makes "at most
  ceil(rate) sends in any window" hold whatever the lateness.

When the sender falls behind by more than ``max_lag_s`` (the bind was idle, the window was
full, the link was down) the anchor is dropped and the next send re-anchors at its own time:
the bind never bursts to "catch up". A throttle from the SMSC pauses the pacer
(``pause_until``) and re-anchors after the pause.

``guard_s`` stretches the window: the SMSC stamps arrivals on its own clock after network
and scheduling jitter, so sends spaced exactly one second per ``ceil(rate)`` show it
``ceil(rate) + 1`` in some window as soon as one arrival is delayed more than a later one
(measured: 3.5 ms against the in-process simulator). A guard of a few milliseconds removes
that at a cost of ``rate * guard`` throughput.

The pacer is not thread-safe; the bind calls it under its own lock.
"""

from __future__ import annotations

import math
from collections import deque

__all__ = ["Pacer"]


class Pacer:
    """Decide the earliest time the next segment may be written.

    ``earliest(now)`` is a pure question; ``record(t)`` tells the pacer a segment was
    written at ``t`` (the sender calls it with the time taken just before the write).
    ``rate_per_s == 0`` means unpaced: only ``pause_until`` applies.
    """

    __slots__ = ("rate_per_s", "window_s", "_interval", "_cap", "_log", "_t0", "_k",
                 "_not_before", "_max_lag")

    def __init__(
        self, rate_per_s: float, *, guard_s: float = 0.0, max_lag_s: float | None = None
    ) -> None:
        if rate_per_s < 0 or guard_s < 0:
            raise ValueError("rate_per_s and guard_s must be >= 0")
        self.rate_per_s = rate_per_s
        # ceil(rate) sends per second, kept within a window stretched by the guard.
        self.window_s = 1.0 + guard_s
        self._interval = 1.0 / rate_per_s if rate_per_s > 0 else 0.0
        # round(): float noise must not turn an exact 50.0 into 51.
        self._cap = max(1, math.ceil(round(rate_per_s, 9))) if rate_per_s else 0
        self._log: deque[float] = deque(maxlen=self._cap or 1)
        self._t0: float | None = None
        self._k = 0
        self._not_before = -math.inf
        # One slot of lateness is tolerated without re-anchoring (plain scheduling jitter);
        # anything more means the sender stalled and must not catch up.
        self._max_lag = max(self._interval, 0.01) if max_lag_s is None else max_lag_s

    @property
    def paced(self) -> bool:
        return self._interval > 0

    @property
    def max_per_window(self) -> int:
        """The most sends any one-second window can hold (0 when unpaced)."""
        return self._cap

    @property
    def not_before(self) -> float:
        return self._not_before

    def earliest(self, now: float) -> float:
        """The earliest time (same clock as ``now``) the next segment may be written."""
        t = now
        if self._interval:
            if self._t0 is not None:
                due = self._t0 + self._k * self._interval
                if now - due <= self._max_lag:
                    t = due
            if len(self._log) == self._cap:
                t = max(t, self._log[0] + self.window_s)
        return t if t >= self._not_before else self._not_before

    def record(self, sent_at: float) -> None:
        """A segment was written at ``sent_at``; advance the schedule."""
        if not self._interval:
            return
        if self._t0 is None or sent_at - (self._t0 + self._k * self._interval) > self._max_lag:
            self._t0 = sent_at
            self._k = 1
        else:
            self._k += 1
        self._log.append(sent_at)

    def pause_until(self, t: float) -> None:
        """Nothing is sent before ``t`` (throttle); the schedule re-anchors after it."""
        if t > self._not_before:
            self._not_before = t
        self._t0 = None

    def reanchor(self) -> None:
        """Forget the schedule (but not the send log): the next send starts a new one."""
        self._t0 = None
