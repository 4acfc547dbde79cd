"""The worker's one MM4 session over time: paced, tested, reconnected, stopped on a refused login.

Wire code only (no Django). A worker process holds ONE :class:`Link`; batch threads call
:meth:`Link.submit`, which serialises them on a lock, because an SMTP session carries one
transaction at a time.

- Pacing: the k-th message of a run leaves at ``t0 + k / rate`` (absolute deadlines, so
  late wake-ups do not accumulate into a lower rate); after a pause longer than one slot the
  schedule re-anchors instead of bursting to catch up.
- Reconnect: a lost session is reopened with exponential backoff and jitter. Sends wait for
  it during ``connect_wait_s`` from the start of the outage; after that each send answers
  ``retry`` at once (the domain backs the message off), while reconnect attempts continue.
- A refused login (535 or any 5xx to AUTH) is final: the link stops trying and every
  ``submit`` raises :class:`AuthRefused` until :meth:`reconfigure` gives it new settings,
  so a wrong key costs exactly one AUTH attempt, never a loop that could lock the account.
"""

from __future__ import annotations

import logging
import random
import threading
import time

from mms_transport.client import AuthRefused, ConnectFailed, Endpoint, MM4Session, SendResult

logger = logging.getLogger(__name__)

__all__ = ["AuthRefused", "Link", "Pacer"]


class Pacer:
    """Hands out send times at ``rate`` per second on absolute deadlines (0 = unpaced)."""

    def __init__(self, rate_per_s: float) -> None:
        self.interval = 1.0 / rate_per_s if rate_per_s > 0 else 0.0
        self._next: float | None = None

    def reserve(self, now: float) -> float:
        """The time the next message may leave (>= ``now``); the slot is taken."""
        if not self.interval:
            return now
        due = self._next
        if due is None or now - due > self.interval:
            due = now  # idle or stalled: start a new schedule rather than burst
        self._next = due + self.interval
        return max(due, now)


class Link:
    """One MM4 session held across messages; thread-safe."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        rate_per_s: float,
        name: str = "mm4",
        idle_test_s: float = 30.0,
        connect_wait_s: float = 20.0,
        backoff_min_s: float = 0.5,
        backoff_max_s: float = 30.0,
    ) -> None:
        self.name = name
        self.idle_test_s = idle_test_s
        self.connect_wait_s = connect_wait_s
        self.backoff_min_s = backoff_min_s
        self.backoff_max_s = backoff_max_s
        self.last_error = ""
        self.auth_refused: AuthRefused | None = None
        self.connects = 0
        self._endpoint = endpoint
        self._session = MM4Session(endpoint)
        self._pacer = Pacer(rate_per_s)
        self._rate = rate_per_s
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._last_used = 0.0
        self._down_since: float | None = None
        self._next_attempt = 0.0
        self._failures = 0

    @property
    def connected(self) -> bool:
        return self._session.connected

    # -- lifecycle ----------------------------------------------------------------------------

    def open(self) -> bool:
        """Try to connect once now (worker start); failures are remembered, not raised."""
        with self._lock:
            return self._try_connect()

    def reconfigure(self, endpoint: Endpoint, rate_per_s: float, *, login_allowed: bool = False) -> None:
        """New settings (a corrected key, another host, a new rate): start afresh if they differ.

        ``login_allowed`` (the operator cleared the stop) permits one new login with the same
        settings, for a refusal the provider has since fixed on its side.
        """
        with self._lock:
            if endpoint != self._endpoint or (login_allowed and self.auth_refused is not None):
                self._session.close()
                self._endpoint = endpoint
                self._session = MM4Session(endpoint)
                self.auth_refused = None
                self._down_since, self._next_attempt, self._failures = None, 0.0, 0
            if rate_per_s != self._rate:
                self._pacer, self._rate = Pacer(rate_per_s), rate_per_s

    def close(self) -> None:
        """QUIT and stop; a submit in progress finishes first (warm shutdown)."""
        self._stopping.set()
        with self._lock:
            self._session.close()

    # -- sending ------------------------------------------------------------------------------

    def submit(self, mail_from: str, rcpt_to: str, data: bytes) -> SendResult:
        """Send one message at the next paced slot; AuthRefused when the login was refused."""
        with self._lock:
            if self.auth_refused is not None:
                raise self.auth_refused
            if not self._ready():
                return SendResult("retry", reply=f"MM4 server unavailable: {self.last_error}")
            due = self._pacer.reserve(time.monotonic())
            delay = due - time.monotonic()
            if delay > 0 and self._stopping.wait(delay):
                return SendResult("retry", reply="worker stopping")
            result = self._session.send(mail_from, rcpt_to, data)
            self._last_used = time.monotonic()
            if not self._session.connected:
                self.last_error = result.reply
                self._mark_down()
            return result

    def _ready(self) -> bool:
        """A usable session: NOOP-tested after idling, reconnected within the outage's grace."""
        if self._session.connected and time.monotonic() - self._last_used > self.idle_test_s:
            if not self._session.noop():
                logger.info("%s: session did not answer NOOP; reconnecting", self.name)
                self._mark_down()
        while not self._session.connected:
            now = time.monotonic()
            if self._down_since is not None and now - self._down_since > self.connect_wait_s:
                if now >= self._next_attempt:
                    self._try_connect()
                break  # past the grace period: one attempt at most, no waiting
            if now < self._next_attempt:
                if self._stopping.wait(self._next_attempt - now):
                    return False
                continue
            if self._try_connect() or self.auth_refused is not None:
                break
        if self.auth_refused is not None:
            raise self.auth_refused
        return self._session.connected

    def _try_connect(self) -> bool:
        try:
            self._session.connect()
        except AuthRefused as exc:
            self.auth_refused, self.last_error = exc, f"login refused: {exc}"
            logger.error("%s: the MM4 server refused the login (%s); sending stopped", self.name, exc.code)
            return False
        except ConnectFailed as exc:
            self.last_error = str(exc)
            self._mark_down()
            logger.warning("%s: %s; next attempt in %.1fs", self.name, exc, self._next_attempt - time.monotonic())
            return False
        self.connects += 1
        self._down_since, self._failures, self._next_attempt = None, 0, 0.0
        self._last_used = time.monotonic()
        return True

    def _mark_down(self) -> None:
        now = time.monotonic()
        if self._down_since is None:
            self._down_since = now
        delay = min(self.backoff_max_s, self.backoff_min_s * 2**self._failures)
        self._failures += 1
        self._next_attempt = now + delay * random.uniform(0.8, 1.2)
