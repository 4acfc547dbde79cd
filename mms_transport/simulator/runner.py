"""Ways to run the MM4 simulator: in a daemon thread (tests) or in the foreground (commands).

The thread runner gives blocking tests a synchronous handle on the asyncio server: live
controls hop onto the loop thread, and the ``wait_*`` helpers block on a condition the
server notifies, so tests synchronise on events instead of sleeping.
"""

from __future__ import annotations

import asyncio
import dataclasses
import signal
from collections.abc import Callable
from typing import Any

from plumbing.server_thread import ServerThread

from .config import SimulatorConfig
from .server import MM4Server


class SimulatorThread(ServerThread):
    """An :class:`MM4Server` on its own event loop in a daemon thread."""

    label = "MM4 simulator"

    def __init__(self, config: SimulatorConfig) -> None:
        super().__init__()
        self.config = config
        self._server = MM4Server(config, on_change=self._notify)

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
    def open_connections(self) -> int:
        return self._server.open_connections

    def wait_for_messages(self, n: int, timeout: float = 5.0) -> bool:
        """Wait until at least ``n`` messages were accepted (queued)."""
        return self.wait_for_counter("accepted", n, timeout)


def _set_or_pop(table: dict[str, str], key: str, value: str | None) -> None:
    if value is None:
        table.pop(key, None)
    else:
        table[key] = value


async def serve(
    config: SimulatorConfig, stop: asyncio.Event | None = None, on_ready: Callable[[MM4Server], None] | None = None
) -> None:
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
