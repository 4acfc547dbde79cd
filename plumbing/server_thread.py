"""An asyncio server on its own event loop in a daemon thread, with blocking waits.

Both simulators (SMSC and MM4) are asyncio servers that tests drive from blocking code:
live controls hop onto the loop thread, and ``wait_for`` blocks on a condition the server
notifies on every event, so tests synchronise on events instead of sleeping. The server
object needs ``start()`` and ``close()`` coroutines, a ``counters`` dict, and must call the
``on_change`` callback it was given (``self._notify``) whenever something happens.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class ServerThread:
    label = "server"

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Any = None  # set by the subclass, built with on_change=self._notify

    # -- lifecycle -----------------------------------------------------------------------

    def start(self, timeout: float = 10.0):
        """Start listening; returns once the server's ports are bound."""
        if self._thread is not None:
            raise RuntimeError(f"{self.label} already running")
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
            self._on_started()
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.close()

        thread = threading.Thread(target=run, name=self.label, daemon=True)
        thread.start()
        if not ready.wait(timeout):
            raise TimeoutError(f"{self.label} did not start")
        if failure:
            thread.join(timeout)
            raise failure[0]
        self._thread = thread
        return self

    def _on_started(self) -> None:
        """Hook run on the loop thread once the server listens (e.g. to note its port)."""

    def stop(self, timeout: float = 10.0) -> None:
        """Close the server (listeners and connections) and end the loop thread."""
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
        """Stop, then listen again; the server object (and its state) is kept."""
        self.stop(timeout)
        self.start(timeout)

    def __enter__(self):
        if self._thread is None:
            self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self._thread is not None

    # -- observation ---------------------------------------------------------------------

    @property
    def counters(self) -> dict[str, int]:
        return dict(self._server.counters)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Block until ``predicate()`` holds or ``timeout`` passes; re-checked on each event.

        The predicate runs with the condition held, so it must only read snapshots
        (counters, records) and not call the live controls.
        """
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    def wait_for_counter(self, name: str, n: int, timeout: float = 5.0) -> bool:
        """Wait until ``counters[name] >= n``."""
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
