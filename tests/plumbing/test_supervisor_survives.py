"""The supervisor never dies of a failed refresh, and no child outlives it (SIGKILL)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.db import OperationalError

from plumbing.supervisor import RefreshGuard

ROOT = Path(__file__).resolve().parents[2]

SUPERVISOR_SCRIPT = """
import sys
from plumbing.supervisor import Supervisor
s = Supervisor()
for i in range(3):
    s.add(f"sleeper.{i}", [sys.executable, "-c", "import time; time.sleep(600)"], {})
def refresh():
    raise OSError("database away")
s.run(refresh=refresh, refresh_every_s=0.1)
"""


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except FileNotFoundError:
        return []
    return [int(p) for p in text.split()]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_sigkill_of_the_supervisor_leaves_no_child_alive() -> None:
    supervisor = subprocess.Popen([sys.executable, "-c", SUPERVISOR_SCRIPT], cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while len(_children(supervisor.pid)) < 3:
            assert time.monotonic() < deadline, "the supervisor never started its children"
            assert supervisor.poll() is None, "the supervisor died of its failing refresh"
            time.sleep(0.1)
        children = _children(supervisor.pid)
        supervisor.send_signal(signal.SIGKILL)
        supervisor.wait(timeout=10)
        deadline = time.monotonic() + 5
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in children if _alive(pid)], "children outlived their supervisor"
    finally:
        if supervisor.poll() is None:
            supervisor.kill()


def test_a_failing_refresh_is_logged_once_and_retried_with_backoff(caplog) -> None:
    calls: list[int] = []

    def refresh() -> None:
        calls.append(1)
        if len(calls) <= 4:
            raise OperationalError("could not connect to server")

    guard = RefreshGuard(refresh, every_s=30, max_backoff_s=8)
    now = 0.0
    delays = []
    with caplog.at_level(logging.WARNING, logger="plumbing.supervisor"):
        for _ in range(5):
            guard.run(now)
            delays.append(guard.next_at - now)
            now = guard.next_at
    assert delays == [1.0, 2.0, 4.0, 8.0, 30]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "OperationalError" in errors[0].getMessage()
    assert any("recovered" in r.getMessage() for r in caplog.records)
    assert os.getpid()  # the process running the guard is still here
