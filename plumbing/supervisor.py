"""Run and watch a set of child processes: restart what dies, stop all on a signal.

Used by ``manage.py run_bind_workers`` so that one Procfile line (or one container) holds
every bind of every active account, each in its own process, restarted with backoff when
it dies, and shut down warmly (SIGTERM, so bind workers drain their window and unbind).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    process: subprocess.Popen | None = None
    restarts: int = 0
    next_start: float = 0.0
    started_at: float = field(default=0.0)


class Supervisor:
    def __init__(self, *, stop_timeout_s: float = 60.0, max_backoff_s: float = 30.0) -> None:
        self.children: dict[str, Child] = {}
        self.stop_timeout_s = stop_timeout_s
        self.max_backoff_s = max_backoff_s
        self._stopping = threading.Event()

    def add(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        if name not in self.children:
            self.children[name] = Child(name, argv, {**os.environ, **env})

    def _start(self, child: Child) -> None:
        logger.info("starting %s", child.name)
        child.process = subprocess.Popen(child.argv, env=child.env)
        child.started_at = time.monotonic()

    def poll_once(self) -> None:
        now = time.monotonic()
        for child in self.children.values():
            if child.process is None:
                if now >= child.next_start:
                    self._start(child)
                continue
            code = child.process.poll()
            if code is None:
                if now - child.started_at > 60:
                    child.restarts = 0  # it ran a while: forget earlier crashes
                continue
            delay = min(self.max_backoff_s, 0.5 * 2**child.restarts)
            logger.warning("%s exited with %s; restarting in %.1fs", child.name, code, delay)
            child.process, child.restarts, child.next_start = None, child.restarts + 1, now + delay

    def run(self, refresh: Callable[[], None] | None = None, refresh_every_s: float = 30.0) -> None:
        """Supervise until SIGTERM / SIGINT, then stop every child warmly."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self._stopping.set())
        last_refresh = 0.0
        while not self._stopping.is_set():
            if refresh and time.monotonic() - last_refresh > refresh_every_s:
                refresh()
                last_refresh = time.monotonic()
            self.poll_once()
            self._stopping.wait(0.5)
        self.stop_all()

    def stop_all(self) -> None:
        running = [c.process for c in self.children.values() if c.process and c.process.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout_s
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
