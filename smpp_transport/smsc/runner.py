"""Ways to run the simulator: in a daemon thread (tests) or in the foreground (commands).

The thread runner gives blocking tests a synchronous handle on an asyncio server: every
mutation hops onto the loop thread, and the ``wait_*`` helpers block on a condition the
loop notifies, so tests synchronise on events instead of sleeping.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal
from typing import Any

from plumbing.server_thread import ServerThread

from .config import SimulatorConfig
from .server import SMSCServer

logger = logging.getLogger(__name__)


class SimulatorThread(ServerThread):
    """An :class:`SMSCServer` on its own event loop in a daemon thread.

    State (message id counter, records, counters, owed receipts) belongs to the object,
    not to one run, so ``restart()`` behaves like a provider coming back after a crash.
    """

    label = "SMSC simulator"

    def __init__(self, config: SimulatorConfig) -> None:
        super().__init__()
        self.config = config
        self._server = SMSCServer(config, on_change=self._notify)
        self.port: int = config.port

    def _on_started(self) -> None:
        self.port = self._server.port

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

    def binds(self) -> list[dict[str, Any]]:
        """Current binds: bind_id, system_id, bind_type ("tx", "rx", "trx"), peer."""
        return [dict(b) for b in self._server.bound]

    def max_binds_seen(self, system_id: str) -> int:
        """The most sessions ``system_id`` had bound at once since the simulator started."""
        return self._server.max_bound_per_system_id.get(system_id, 0)

    def wait_for_binds(self, n: int, timeout: float = 5.0) -> bool:
        """Wait until at least ``n`` binds are bound."""
        return self.wait_for(lambda: len(self._server.bound) >= n, timeout)

    def wait_for_submits(self, n: int, timeout: float = 5.0) -> bool:
        """Wait until at least ``n`` submit_sm were received (throttled ones included)."""
        return self.wait_for(lambda: self._server.counters["submits"] >= n, timeout)


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
