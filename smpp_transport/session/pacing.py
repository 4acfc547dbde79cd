"""Pacing of submit_sm on absolute deadlines, counting segments.

Why not a sleep between sends: a relative sleep drifts (every late wake-up is lost for
good), so a bind configured for 50/s ends up at 47/s. Why not a plain token bucket with a
burst: the provider's limit is "N per second per bind" and SMSCs check it with a sliding
one-second window; any burst above N in any window earns ESME_RTHROTTLED.

The pacer therefore combines two rules, both on the caller's clock:

* absolute deadlines: the k-th segment since the anchor ``t0`` is not sent before
  ``t0 + k / rate``. A late send does not push later deadlines back, so scheduling jitter
  does not turn into drift;
* a log of the last ``ceil(rate)`` sends: a send never happens less than one second after
  the latest moment the SMSC can have stamped the send ``ceil(rate)`` places before it.
  Deadlines alone would let a late send and an on-time send crowd together (a send 15 ms
  late followed by one on time puts N+1 sends in some one-second window); the log makes
  "at most ceil(rate) arrivals in any window" hold whatever the lateness.

Why the SMSC's stamp and not our send time: the SMSC counts arrivals on its own clock,
after network and scheduling delays. Sends spaced exactly one second per ``ceil(rate)``
show it ``ceil(rate) + 1`` in a window as soon as one arrival is delayed more than a later
one (measured against the simulator: up to 6.7 ms on two busy cores). A fixed margin
either costs rate on every send or loses on the one delay that exceeds it. The send's
response bounds the stamp instead: the SMSC stamped the submit before it answered, so the
stamp lies between our write and the moment we read the answer (less the fastest round
trip seen lately, which is travel time, not delay). A send whose answer came late pushes
its successor ``ceil(rate)`` places on by exactly that much; the others cost only
``guard_s`` (the SMSC's own time between stamping and answering). ``answered()`` records
the answer; an answer not yet back falls back to the write time plus ``UNANSWERED_S``
(with the window no larger than the rate, the answer is always back a second later).

Lateness up to ``MAX_LAG_S`` (a tenth of a second; a slot at low rates) keeps the anchor:
the slots a busy core made the sender miss go at once, as the send log allows, instead of
being lost for good. When the sender falls behind by more (the bind was idle, the window
was full, the link was down) the anchor is dropped and the next send re-anchors at its own time:
the bind never bursts to "catch up". A throttle from the SMSC pauses the pacer
(``pause_until``) and re-anchors after the pause.

The pacer is not thread-safe; the bind calls it under its own lock.
"""

from __future__ import annotations

import math
from collections import deque

__all__ = ["Pacer", "UNANSWERED_S"]

# Where a send's answer is not back when the next window depends on it: assume the SMSC
# stamped it this long after our write (only reachable with a window larger than the rate).
UNANSWERED_S = 0.05
# Lateness the schedule rides out (see Pacer.__init__).
MAX_LAG_S = 0.1
# Round trips older than this no longer count towards the fastest one (routes change).
RTT_MEMORY_S = 30.0


class Pacer:
    """Decide the earliest time the next segment may be written.

    ``earliest(now)`` is a pure question; ``record(t)`` tells the pacer a segment was
    written at ``t`` (the sender calls it with the time taken just after the write) and
    returns the send's slot, which the reader hands to ``answered(slot, t)`` when the
    response is read. ``rate_per_s == 0`` means unpaced: only ``pause_until`` applies.
    """

    __slots__ = ("rate_per_s", "guard_s", "_interval", "_cap", "_log", "_rtts", "_t0", "_k", "_not_before", "_max_lag")

    def __init__(self, rate_per_s: float, *, guard_s: float = 0.0, max_lag_s: float | None = None) -> None:
        if rate_per_s < 0 or guard_s < 0:
            raise ValueError("rate_per_s and guard_s must be >= 0")
        self.rate_per_s = rate_per_s
        self.guard_s = guard_s
        self._interval = 1.0 / rate_per_s if rate_per_s > 0 else 0.0
        # round(): float noise must not turn an exact 50.0 into 51.
        self._cap = max(1, math.ceil(round(rate_per_s, 9))) if rate_per_s else 0
        # Each slot is [written_at, answered_at]; answered_at is inf until the answer.
        self._log: deque[list[float]] = deque(maxlen=self._cap or 1)
        # (answered_at, round trip), round trips increasing: the front is the fastest.
        self._rtts: deque[tuple[float, float]] = deque()
        self._t0: float | None = None
        self._k = 0
        self._not_before = -math.inf
        # Up to MAX_LAG_S of lateness (at least a slot) keeps the schedule: a core busy
        # elsewhere for a few slots is made up at once, within the send log's window, not
        # lost for good (on 2 cores, 20 binds lost 1-3 % of their rate that way). More
        # means the sender stalled (idle, window full, link down): it must not catch up.
        self._max_lag = max(self._interval, MAX_LAG_S) if max_lag_s is None else max_lag_s

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
                t = max(t, self._stamped_by(self._log[0]) + 1.0 + self.guard_s)
        return t if t >= self._not_before else self._not_before

    def record(self, sent_at: float) -> list[float] | None:
        """A segment was written at ``sent_at``; advance the schedule. Returns its slot."""
        if not self._interval:
            return None
        if self._t0 is None or sent_at - (self._t0 + self._k * self._interval) > self._max_lag:
            self._t0 = sent_at
            self._k = 1
        else:
            self._k += 1
        slot = [sent_at, math.inf]
        self._log.append(slot)
        return slot

    def answered(self, slot: list[float] | None, at: float) -> None:
        """The SMSC's answer to the send ``slot`` was read at ``at``."""
        if slot is None or at >= slot[1]:
            return
        slot[1] = at
        rtt = max(0.0, at - slot[0])
        rtts = self._rtts
        while rtts and rtts[-1][1] >= rtt:
            rtts.pop()
        rtts.append((at, rtt))
        while rtts[0][0] < at - RTT_MEMORY_S:
            rtts.popleft()

    def _stamped_by(self, slot: list[float]) -> float:
        """The latest moment the SMSC can have stamped this send's arrival."""
        written, answered = slot
        if answered == math.inf:
            return written + UNANSWERED_S
        fastest = self._rtts[0][1] if self._rtts else 0.0
        return max(written, answered - fastest)

    def pause_until(self, t: float) -> None:
        """Nothing is sent before ``t`` (throttle); the schedule re-anchors after it."""
        if t > self._not_before:
            self._not_before = t
        self._t0 = None

    def reanchor(self) -> None:
        """Forget the schedule (but not the send log): the next send starts a new one."""
        self._t0 = None
