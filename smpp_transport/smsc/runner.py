"""Ways to run the simulator: in a daemon thread (tests) or in the foreground (commands).

The thread runner gives blocking tests a synchronous handle on an asyncio server: every
mutation hops onto the loop thread, and the ``wait_*`` helpers block on a condition the
loop notifies, so tests synchronise on events instead of sleeping.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import logging
import signal
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from .config import SimulatorConfig
from .server import SMSCServer

logger = logging.getLogger(__name__)

T = TypeVar("T")


class SimulatorThread:
    """An :class:`SMSCServer` on its own event loop in a daemon thread.

    State (message id counter, records, counters, owed receipts) belongs to the object,
    not to one run, so ``restart()`` behaves like a provider coming back after a crash.
    """

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self._cond = threading.Condition()
        self._server = SMSCServer(config, on_change=self._notify)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.port: int = config.port

    # -- lifecycle -----------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> SimulatorThread:
        """Start listening; returns once the port is bound (``self.port``)."""
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
            self.port = self._server.port
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.close()

        thread = threading.Thread(target=run, name=f"smsc-sim-{self.port}", daemon=True)
        thread.start()
        if not ready.wait(timeout):
            raise TimeoutError("SMSC simulator did not start")
        if failure:
            thread.join(timeout)
            raise failure[0]
        self._thread = thread
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop listening, unbind every bind, flush the log, end the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._server.close(), loop).result(timeout)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._loop = None
        self._thread = None
        self._notify()

    def restart(self, timeout: float = 10.0) -> None:
        """Stop, then listen again on the same port (the ids keep counting)."""
        self.stop(timeout)
        self.start(timeout)

    def __enter__(self) -> SimulatorThread:
        if self._thread is None:
            self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self._thread is not None

    # -- live controls -------------------------------------------------------------------

    def set_rate(self, rate_per_bind: float) -> None:
        """Change the per-bind throttle (0 = unlimited) while running: a throttling storm."""
        self._server.rate_per_bind = float(rate_per_bind)

    def set_resp_delay(self, seconds: float) -> None:
        """Delay future submit_sm_resp by ``seconds``."""
        self._server.resp_delay_s = float(seconds)

    def set_outcomes(self, outcomes: dict[str, float]) -> None:
        """Replace the receipt outcome weights for future submits."""
        self._call(self._server.set_outcomes, dict(outcomes))

    def drop_connections(self) -> None:
        """Close every bind abruptly (SMSC crash) but keep listening."""
        self._call(self._server.drop_connections)

    def send_mo(
        self,
        system_id: str,
        source_addr: str,
        destination_addr: str,
        text_bytes: bytes,
        data_coding: int = 0,
    ) -> None:
        """Push a mobile-originated deliver_sm to a receiver bind of ``system_id``."""
        self._call(self._server.send_mo, system_id, source_addr, destination_addr, text_bytes, data_coding)

    def send_receipt(self, system_id: str, message_id: str, stat: str = "DELIVRD", err: str = "000") -> None:
        """Push a receipt for any id (duplicates, orphans, ids never issued)."""
        self._call(self._server.send_receipt, system_id, message_id, stat, err)

    # -- observation ---------------------------------------------------------------------

    @property
    def submits(self) -> list[dict[str, Any]]:
        """Snapshot of the submit_sm records (the JSON log's records), oldest first."""
        return list(self._server.records)

    def get_submits(self) -> list[dict[str, Any]]:
        """Same as :attr:`submits`; the name says it is a copy."""
        return list(self._server.records)

    @property
    def counters(self) -> dict[str, int]:
        """Snapshot of the counters (submits, throttled, receipts_sent, receipts_acked...)."""
        return dict(self._server.counters)

    def binds(self) -> list[dict[str, Any]]:
        """Current binds: bind_id, system_id, bind_type ("tx", "rx", "trx"), peer."""
        return [dict(b) for b in self._server.bound]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Block until ``predicate()`` holds or ``timeout`` passes; re-checked on each event.

        The predicate runs with the condition held, so it must only read snapshots
        (counters, submits, binds()) and not call the live controls.
        """
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    def wait_for_binds(self, n: int, timeout: float = 5.0) -> bool:
        """Wait until at least ``n`` binds are bound."""
        return self.wait_for(lambda: len(self._server.bound) >= n, timeout)

    def wait_for_submits(self, n: int, timeout: float = 5.0) -> bool:
        """Wait until at least ``n`` submit_sm were received (throttled ones included)."""
        return self.wait_for(lambda: self._server.counters["submits"] >= n, timeout)

    def wait_for_counter(self, name: str, n: int, timeout: float = 5.0) -> bool:
        """Wait until ``counters[name] >= n``, e.g. ``("receipts_acked", 3)``."""
        return self.wait_for(lambda: self._server.counters[name] >= n, timeout)

    # -- internals -----------------------------------------------------------------------

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


async def serve(config: SimulatorConfig, stop: asyncio.Event | None = None) -> None:
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
    server = SMSCServer(dataclasses.replace(config, record_submits=False))
    await server.start()
    try:
        await stop.wait()
    finally:
        await server.close()
        for sig in installed:
            loop.remove_signal_handler(sig)


def run_forever(config: SimulatorConfig) -> None:
    """Blocking entry point for the management command and ``python -m``."""
    asyncio.run(serve(config))
