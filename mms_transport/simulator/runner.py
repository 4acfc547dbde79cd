"""Ways to run the MM4 simulator: in a daemon thread (tests) or in the foreground (commands).

The thread runner gives blocking tests a synchronous handle on the asyncio server: live
controls hop onto the loop thread, and the ``wait_*`` helpers block on a condition the
server notifies, so tests synchronise on events instead of sleeping.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import signal
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from .config import SimulatorConfig
from .server import MM4Server

T = TypeVar("T")


class SimulatorThread:
    """An :class:`MM4Server` on its own event loop in a daemon thread."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self._cond = threading.Condition()
        self._server = MM4Server(config, on_change=self._notify)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> SimulatorThread:
        """Start listening; returns once the ports are bound (``port``, ``tls_port``)."""
        if self._thread is not None:
            raise RuntimeError("simulator already running")
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            try:
                loop.run_until_complete(self._server.start())
            except BaseException as exc:  # handed to the starting thread
                failure.append(exc)
                loop.close()
                ready.set()
                return
            self._loop = loop
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.close()

        thread = threading.Thread(target=run, name="mm4-sim", daemon=True)
        thread.start()
        if not ready.wait(timeout):
            raise TimeoutError("MM4 simulator did not start")
        if failure:
            thread.join(timeout)
            raise failure[0]
        self._thread = thread
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop listening, drop connections, stop the report thread, end the loop thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._server.close(), loop).result(timeout)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._loop = self._thread = None
        self._notify()

    def __enter__(self) -> SimulatorThread:
        if self._thread is None:
            self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The plain listener's port."""
        assert self._server.port is not None, "no plain listener"
        return self._server.port

    @property
    def tls_port(self) -> int:
        """The implicit-TLS listener's port."""
        assert self._server.tls_port is not None, "no TLS listener"
        return self._server.tls_port

    # -- live controls ------------------------------------------------------------------------

    def set_receiver(self, host: str, port: int) -> None:
        """Send future delivery reports to ``host:port``."""
        self._server.set_receiver((host, port))

    def set_outcomes(self, outcomes: dict[str, float]) -> None:
        """Replace the delivery report outcome weights for future messages."""
        self._call(self._server.set_outcomes, dict(outcomes))

    def set_recipient_reply(self, number: str, reply: str | None) -> None:
        """Answer RCPT TO for ``number`` (E.164 digits) with ``reply``; None restores 250."""
        self._call(_set_or_pop, self._server.recipient_replies, number.lstrip("+"), reply)

    def set_data_reply(self, number: str, reply: str | None) -> None:
        """Answer the data for ``number`` with ``reply`` instead of queueing it; None restores."""
        self._call(_set_or_pop, self._server.data_replies, number.lstrip("+"), reply)

    def drop_connections(self) -> None:
        """Close every client connection abruptly (provider crash) but keep listening."""
        self._call(self._server.drop_connections)

    # -- observation --------------------------------------------------------------------------

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Snapshot of the accepted messages (id, numbers, outcome, data...), oldest first."""
        return list(self._server.messages)

    @property
    def auth_log(self) -> list[dict[str, Any]]:
        """Snapshot of every AUTH attempt: user, mechanism, ok, tls (never the key)."""
        return list(self._server.auth_log)

    @property
    def reports(self) -> list[dict[str, Any]]:
        """Snapshot of report delivery attempts: kind, message_id, status, outcome."""
        return list(self._server.reports.log)

    @property
    def counters(self) -> dict[str, int]:
        return dict(self._server.counters)

    @property
    def open_connections(self) -> int:
        return self._server.open_connections

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Block until ``predicate()`` holds or ``timeout`` passes; re-checked on each event.

        The predicate runs with the condition held: it may read snapshots, not call controls.
        """
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    def wait_for_counter(self, name: str, n: int, timeout: float = 5.0) -> bool:
        """Wait until ``counters[name] >= n``, e.g. ``("reports_sent", 200)``."""
        return self.wait_for(lambda: self._server.counters[name] >= n, timeout)

    def wait_for_messages(self, n: int, timeout: float = 5.0) -> bool:
        """Wait until at least ``n`` messages were accepted (queued)."""
        return self.wait_for_counter("accepted", n, timeout)

    # -- internals ----------------------------------------------------------------------------

    def _notify(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn`` on the loop thread (or directly when stopped) and return its result."""
        loop = self._loop
        if loop is None:
            return fn(*args)
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # re-raised in the caller
                future.set_exception(exc)

        loop.call_soon_threadsafe(run)
        return future.result(timeout=10)


def _set_or_pop(table: dict[str, str], key: str, value: str | None) -> None:
    if value is None:
        table.pop(key, None)
    else:
        table[key] = value


async def serve(config: SimulatorConfig, stop: asyncio.Event | None = None,
                on_ready: Callable[[MM4Server], None] | None = None) -> None:  # fmt: skip
    """Run until SIGINT/SIGTERM (or ``stop`` is set), then shut down cleanly."""
    loop = asyncio.get_running_loop()
    stop = stop or asyncio.Event()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
        except (NotImplementedError, RuntimeError):  # not the main thread / platform
            pass
    server = MM4Server(dataclasses.replace(config, record_messages=False))
    await server.start()
    if on_ready:
        on_ready(server)
    try:
        await stop.wait()
    finally:
        await server.close()
        for sig in installed:
            loop.remove_signal_handler(sig)


def run_forever(config: SimulatorConfig, on_ready: Callable[[MM4Server], None] | None = None) -> None:
    """Blocking entry point for the management command and ``python -m``."""
    asyncio.run(serve(config, on_ready=on_ready))
