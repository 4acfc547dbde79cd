"""Run and watch a set of child processes: restart what dies, stop all on a signal.

Used by ``manage.py run_bind_workers`` so that one Procfile line (or one container) holds
every bind of every active account, each in its own process, restarted with backoff when
it dies, and shut down warmly (SIGTERM, so bind workers drain their window and unbind).
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> Callable[[], None]:
    """A ``preexec_fn``: the kernel sends the child SIGTERM when the supervisor dies, even by
    SIGKILL (no bind may outlive it). If the supervisor is already gone when the child
    reaches this point (the race prctl cannot cover), the child exits at once."""

    def preexec() -> None:
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):  # not Linux: the parent-pid watch below still applies
            pass
        if os.getppid() != parent_pid:
            os._exit(1)

    return preexec


def watch_parent(grace_s: float = 3.0) -> None:
    """In a supervised child: the fallback to PR_SET_PDEATHSIG. A thread sees the supervisor
    gone (our parent pid changes), asks for a warm stop (SIGTERM) and exits hard if the
    warm stop takes longer than ``grace_s``. Nothing happens outside a supervisor."""
    parent = os.environ.get("SUPERVISOR_PID")
    if not parent or not parent.isdigit():
        return

    def run() -> None:
        while os.getppid() == int(parent):
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(grace_s)
        os._exit(1)

    threading.Thread(target=run, name="parent-watch", daemon=True).start()


class RefreshGuard:
    """Run the supervisor's refresh without ever letting it kill the supervisor: a failure
    (database or broker away) is logged once per outage, not once per retry, and retried
    with exponential backoff; the first success after an outage is logged as recovery."""

    def __init__(self, refresh: Callable[[], None], *, every_s: float, max_backoff_s: float = 30.0) -> None:
        self.refresh, self.every_s, self.max_backoff_s = refresh, every_s, max_backoff_s
        self.failures = 0
        self.next_at = 0.0

    def due(self, now: float) -> bool:
        return now >= self.next_at

    def run(self, now: float) -> None:
        try:
            self.refresh()
        except Exception as exc:  # noqa: BLE001 - any failure: keep the children, retry later
            delay = min(self.max_backoff_s, 1.0 * 2**self.failures)
            if self.failures == 0:
                logger.error(
                    "refresh failed (%s: %s); retrying with backoff up to %.0fs",
                    type(exc).__name__,
                    exc,
                    self.max_backoff_s,
                )
            self.failures += 1
            self.next_at = now + delay
            return
        if self.failures:
            logger.warning("refresh recovered after %d failed attempts", self.failures)
        self.failures = 0
        self.next_at = now + self.every_s


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
        env = {**child.env, "SUPERVISOR_PID": str(os.getpid())}
        child.process = subprocess.Popen(child.argv, env=env, preexec_fn=die_with_parent(os.getpid()))
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
        guard = RefreshGuard(refresh, every_s=refresh_every_s, max_backoff_s=self.max_backoff_s) if refresh else None
        while not self._stopping.is_set():
            if guard and guard.due(time.monotonic()):
                guard.run(time.monotonic())
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


def db_env(name: str, pool_max_size: int) -> dict[str, str]:
    """A child's database settings: its own pool size (the connection budget of its process
    kind, docs/operations.md) and an application_name that pg_stat_activity shows."""
    return {"DB_POOL_MAX_SIZE": str(pool_max_size), "DB_APPLICATION_NAME": name[:63]}
