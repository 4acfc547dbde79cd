"""One SMPP session ("bind") on smpplib: window, pacing, reconnect, TLS, receipts.

The Celery bind worker owns one ``Bind`` per process and calls ``submit()`` from its task
threads. Threads of a bind, and why there are exactly these:

* the session thread connects and binds, then is the only writer of requests (submit_sm,
  enquire_link, unbind) and the owner of every timer (pacing deadlines, response timeouts,
  enquire_link, reconnect backoff). One thread for all timers means no timer threads and
  no thread hop per PDU: ``submit()`` hands over a whole batch at once.
* one reader thread per connection is the only reader of the socket (smpplib is not
  thread-safe): it decodes PDUs, resolves responses, answers the SMSC's requests, and calls
  ``on_deliver`` *before* acknowledging a deliver_sm, so a receipt is only acked once the
  caller has stored it.

``Bind`` owns two collaborators, built once and kept across reconnects: a ``Reader``
(session/reader.py, the reader thread's work) and a ``Sender`` (session/sender.py, the
session thread's writing). Each is handed the parts of the bind it uses: the window, the
pacer, the config and a ``SessionState`` (session/connection.py) holding the one Condition
all threads share, the ``stopping`` flag and ``last_error``; ``SessionState.lost()`` is how
either of them marks a connection dead. ``Bind`` itself keeps the lifecycle: start, the
reconnect loop with its backoff, teardown, drain and unbind. Writes from both threads go
through the transport's send lock. Outcomes per part: see ``SubmitResult``.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence

from smpp_transport.session import codec
from smpp_transport.session.codec import ProtocolError, status_name
from smpp_transport.session.connection import Connection, SessionState
from smpp_transport.session.handshake import open_bound_transport
from smpp_transport.session.pacing import Pacer
from smpp_transport.session.reader import Reader
from smpp_transport.session.sender import Sender
from smpp_transport.session.transport import PduClient
from smpp_transport.session.types import (
    BindAuthError,
    BindConfig,
    BindRefused,
    InboundPdu,
    OutboundPart,
    SubmitResult,
)
from smpp_transport.session.window import SubmitWindow

__all__ = ["Bind", "BindAuthError", "BindConfig", "BindRefused", "InboundPdu", "OutboundPart", "SubmitResult"]

log = logging.getLogger(__name__)

_STABLE_SESSION_S = 10.0  # a session this long resets the reconnect backoff


class Bind:
    """One SMPP bind: ``start()``, ``submit()`` from any thread, ``stop()``.

    ``on_deliver`` runs on the reader thread for every deliver_sm / data_sm (receipt or
    MO), in arrival order; if it raises, the SMSC gets ESME_RX_T_APPN and will redeliver.
    If it returns a ``concurrent.futures.Future``, the acknowledgement waits for that
    future (ESME_ROK when it succeeds, ESME_RX_T_APPN when it fails) while the reader goes
    on: this lets a handler commit many receipts in one transaction.
    It blocks this bind's reading while it runs, so it should only store the PDU.

    ``last_error`` keeps the most recent problem (refused bind, lost connection, ...) even
    after the bind recovers; ``state`` says whether it is healthy now.
    """

    def __init__(
        self,
        config: BindConfig,
        *,
        on_deliver: Callable[[InboundPdu], object] | None = None,
        name: str = "",
    ) -> None:
        self.config = config
        self.name = name or f"{config.system_id}@{config.address}/{config.mode}"
        self._shared = SessionState()
        self._cv = self._shared.cv
        self._pacer = Pacer(config.rate_per_s, guard_s=config.pacing_guard_s)
        self._window = SubmitWindow(config.window, self._pacer, config.max_throttle_retries)
        self._client = PduClient(config)
        self._reader = Reader(
            config=config,
            name=self.name,
            shared=self._shared,
            window=self._window,
            pacer=self._pacer,
            on_deliver=on_deliver,
        )
        self._sender = Sender(
            config=config,
            name=self.name,
            shared=self._shared,
            window=self._window,
            pacer=self._pacer,
            client=self._client,
        )
        self._thread: threading.Thread | None = None
        self._conn: Connection | None = None
        self._state = "stopped"
        self._stop_deadline = 0.0
        self._binds = 0
        self._refusals = 0
        self._reconnects = 0

    def __repr__(self) -> str:
        return f"<Bind {self.name} {self._state}>"

    # -- public API ----------------------------------------------------------------------
    @property
    def state(self) -> str:
        """connecting | bound | backoff | stopped | auth_failed"""
        return self._state

    @property
    def last_error(self) -> str | None:
        """The most recent problem, kept after recovery (the Reader and Sender set it too)."""
        return self._shared.last_error

    @last_error.setter
    def last_error(self, value: str | None) -> None:
        self._shared.last_error = value

    @property
    def stats(self) -> dict:
        """A snapshot of the counters (cheap; safe from any thread)."""
        with self._cv:
            window = self._window
            reader = self._reader
            return {
                "state": self._state,
                "submits": window.submitted,
                "responses": {status_name(k): v for k, v in window.responses.items()},
                "throttles": window.throttles,
                "timeouts": window.timeouts,
                "late_responses": window.late,
                "window_in_use": window.used,
                "window_high_water": window.high_water,
                "queued": window.queued,
                "binds": self._binds,
                "bind_refusals": self._refusals,
                "reconnects": self._reconnects,
                "delivers": reader.delivers,
                "deliver_errors": reader.deliver_errors,
                "enquire_link_sent": self._sender.el_sent,
                "enquire_link_resps": reader.el_resps,
                "last_enquire_link_resp_at": reader.last_el_resp_at,
            }

    def start(self, wait: bool = True, timeout: float | None = None, *, fail_on_refusal: bool = False) -> None:
        """Connect and bind in the background; with ``wait``, return once bound.

        Raises BindAuthError on refused credentials and TimeoutError if not bound within
        ``timeout`` (default connect + response timeout); the bind keeps retrying in the
        background in that case, so the caller may wait again or ``stop()``. With
        ``fail_on_refusal`` a bind refused for capacity raises BindRefused at once (a probe).
        """
        with self._cv:
            if self._thread is not None and self._thread.is_alive():
                raise RuntimeError(f"bind {self.name} already started")
            self._shared.stopping = False
            self._set_state("connecting")
            self._thread = threading.Thread(target=self._run, name=f"smpp-bind[{self.name}]", daemon=True)
            self._thread.start()
        if not wait:
            return
        if timeout is None:
            timeout = self.config.connect_timeout_s + self.config.response_timeout_s
        deadline = time.monotonic() + timeout
        with self._cv:
            while self._state not in ("bound", "auth_failed", "stopped"):
                if fail_on_refusal and self._refusals:
                    raise BindRefused(self.last_error)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"bind {self.name} not bound after {timeout:.1f}s: {self.last_error}")
                self._cv.wait(remaining)
            if self._state == "auth_failed":
                raise BindAuthError(self.last_error)

    def submit(self, parts: Sequence[OutboundPart], *, timeout: float | None = None) -> list[SubmitResult]:
        """Send the parts in order; block until each has a result (same order).

        ``timeout`` bounds the wait for parts to get onto the wire: parts still queued when
        it expires come back as ``retry``; parts already written are always waited for
        (at most ``response_timeout_s`` more) so their outcome is never guessed.
        """
        if self.config.mode == "rx":
            raise ValueError(f"bind {self.name} is a receiver: it cannot submit")
        if not parts:
            return []
        with self._cv:
            batch = self._window.enqueue(parts)
            if self._shared.stopping or self._thread is None or self._state in ("stopped", "auth_failed"):
                self._window.cancel_unsent(batch)
                return list(batch.results)  # type: ignore[arg-type]
            self._cv.notify_all()
        if not batch.done.wait(timeout):
            with self._cv:
                self._window.cancel_unsent(batch)
            if not batch.done.wait(self.config.response_timeout_s + 1.0):
                with self._cv:
                    self._window.resolve_all(batch, "unknown")
        return list(batch.results)  # type: ignore[arg-type]

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking work, drain the window, unbind, close; all bounded by ``timeout``.

        Queued parts come back as ``retry``; parts still unanswered at the end as
        ``unknown``.
        """
        deadline = time.monotonic() + timeout
        with self._cv:
            thread = self._thread
            if thread is None:
                return
            if not self._shared.stopping:
                self._shared.stopping = True
                self._stop_deadline = deadline
                log.info("bind %s: stopping", self.name)
            self._cv.notify_all()
        thread.join(max(0.0, deadline - time.monotonic()) + 0.5)
        if thread.is_alive():
            log.warning("bind %s: session thread still running after stop(%.1fs)", self.name, timeout)

    # -- session thread ------------------------------------------------------------------
    def _set_state(self, state: str) -> None:
        """Caller holds the lock."""
        if state != self._state:
            log.info("bind %s: %s -> %s", self.name, self._state, state)
            self._state = state
            self._cv.notify_all()

    def _backoff(self, attempt: int, ceiling: float | None = None) -> float:
        """Exponential backoff with full jitter between the floor and the growing cap."""
        cfg = self.config
        cap = min(ceiling or cfg.reconnect_max_s, cfg.reconnect_min_s * (2 ** min(attempt, 30)))
        return random.uniform(cfg.reconnect_min_s, max(cfg.reconnect_min_s, cap))

    def _sleep_unless_stopping(self, delay: float) -> bool:
        deadline = time.monotonic() + delay
        with self._cv:
            self._set_state("backoff")
            while not self._shared.stopping:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return True
                self._cv.wait(remaining)
        return False

    def _run(self) -> None:
        attempt = refused = 0
        try:
            while not self._shared.stopping:
                with self._cv:
                    self._set_state("connecting")
                try:
                    transport, leftover, smsc = open_bound_transport(self.config, self._client)
                except BindAuthError as exc:
                    with self._cv:
                        self.last_error = str(exc)
                        self._set_state("auth_failed")
                        self._window.fail_queued("retry")
                    log.error("bind %s: %s; not retrying until restarted", self.name, exc)
                    return
                except BindRefused as exc:
                    # Too many binds (another host's, or one not yet timed out): not the
                    # credentials. Wait longer each time, logged once until it binds.
                    self.last_error, self._refusals = str(exc), self._refusals + 1
                    delay_cap = self.config.refused_backoff_max_s
                    delay = self._backoff(refused, delay_cap)
                    refused += 1
                    level = logging.WARNING if refused == 1 else logging.DEBUG
                    log.log(level, "bind %s: %s; retrying with backoff up to %.0fs", self.name, exc, delay_cap)
                    if not self._sleep_unless_stopping(delay):
                        break
                    continue
                except (OSError, ProtocolError) as exc:
                    self.last_error = f"connect/bind to {self.config.address} failed: {exc}"
                    delay = self._backoff(attempt)
                    attempt += 1
                    log.warning("bind %s: %s; retrying in %.2fs", self.name, self.last_error, delay)
                    if not self._sleep_unless_stopping(delay):
                        break
                    continue
                log.info("bind %s: bound to %s (SMSC system_id %r)", self.name, self.config.address, smsc)
                refused = 0
                started = time.monotonic()
                self._session(Connection(transport, leftover))
                if self._shared.stopping:
                    break
                self._reconnects += 1
                if time.monotonic() - started >= _STABLE_SESSION_S:
                    attempt = 0
                delay = self._backoff(attempt)
                attempt += 1
                if not self._sleep_unless_stopping(delay):
                    break
        except Exception as exc:  # a bug must not leave callers waiting forever
            log.exception("bind %s: session thread crashed", self.name)
            self.last_error = f"session thread crashed: {exc!r}"
        finally:
            with self._cv:
                self._window.fail_queued("retry")
                if self._state != "auth_failed":
                    self._set_state("stopped")
                self._cv.notify_all()

    def _session(self, conn: Connection) -> None:
        with self._cv:
            self._conn = conn
            self._binds += 1
            self._pacer.reanchor()
            self._set_state("bound")
        thread = threading.Thread(
            target=self._reader.read_loop, args=(conn,), name=f"smpp-read[{self.name}]", daemon=True
        )
        conn.reader = thread
        thread.start()
        try:
            self._sender.pump(conn)
        finally:
            self._teardown(conn)

    def _teardown(self, conn: Connection) -> None:
        graceful = self._shared.stopping and conn.alive
        if graceful:
            self._drain_and_unbind(conn)
        conn.closing = True
        conn.transport.close(graceful=graceful)
        if conn.reader is not None and conn.reader is not threading.current_thread():
            conn.reader.join(max(1.0, self.config.response_timeout_s))
        with self._cv:
            unknown = self._window.fail_inflight("unknown")
            self._conn = None
        if graceful:
            log.info(
                "bind %s: unbound and closed%s", self.name, f" ({unknown} parts unanswered: unknown)" if unknown else ""
            )
        else:
            log.warning(
                "bind %s: connection lost (%s); %d parts in flight marked unknown",
                self.name,
                conn.reason or "?",
                unknown,
            )

    def _drain_and_unbind(self, conn: Connection) -> None:
        cfg = self.config
        window = self._window
        now = time.monotonic()
        budget = max(0.0, self._stop_deadline - now)
        drain_until = now + min(cfg.response_timeout_s, budget * 0.6)
        with self._cv:
            window.fail_queued("retry")
            while window.inflight and conn.alive:
                now = time.monotonic()
                window.expire(now)
                if now >= drain_until or not window.inflight:
                    break
                self._cv.wait(drain_until - now)
            if not conn.alive:
                return
        seq, pdu = codec.build_request(self._client, "unbind")
        with self._cv:
            conn.unbind_seq = seq
            conn.closing = True  # the SMSC closing after unbind_resp is not an error
        if conn.transport.send_pdus([pdu])[1] is not None:
            return
        unbind_until = time.monotonic() + min(cfg.response_timeout_s, max(0.2, self._stop_deadline - time.monotonic()))
        with self._cv:
            while not conn.unbound and conn.alive:
                remaining = unbind_until - time.monotonic()
                if remaining <= 0:
                    log.warning("bind %s: no unbind_resp; closing anyway", self.name)
                    break
                self._cv.wait(remaining)
