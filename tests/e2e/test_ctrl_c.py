"""Ctrl-C on ``make serve`` (what ``make run`` runs) in a real terminal ends quietly.

The suite opens a pseudo-terminal, starts the platform in it as a person would, waits for
the web process to answer, types Ctrl-C and reads everything printed until the end: no
traceback, no "Error 130"/"Interrupt" from make, every process gone, make's exit 0.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import socket
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.harness import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(400)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _read(fd: int, out: bytearray, seconds: float) -> bool:
    """Read for up to ``seconds``; False once the terminal is closed (everything exited)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return False
            if not chunk:
                return False
            out.extend(chunk)
    return True


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def test_ctrl_c_on_make_serve_stops_without_tracebacks_or_make_errors(tmp_path: Path) -> None:
    web = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL"}}
    env.update(
        VAR_DIR=str(tmp_path / "var"),
        WEB_PORT=str(web),
        SMSC_SIMULATOR_PORT=str(_free_port()),
        MM4_SIMULATOR_PORT=str(_free_port()),
        MM4_SIMULATOR_TLS_PORT=str(_free_port()),
        MM4_RECEIVER_PORT=str(_free_port()),
        CELERY_DEFAULT_QUEUE=f"default-{os.getpid()}",
        PYTHONUNBUFFERED="1",
        TERM="dumb",
    )
    venv = Path(sys.executable).parent.parent
    pid, fd = pty.fork()
    if pid == 0:  # the child: a shell's foreground job in its own terminal
        os.chdir(ROOT)
        os.execvpe("make", ["make", "--no-print-directory", "serve", f"VENV={venv}"], env)
    out = bytearray()
    try:
        deadline = time.monotonic() + 240
        while not _answers(web):
            assert time.monotonic() < deadline, out.decode(errors="replace")[-4000:]
            assert _read(fd, out, 1.0), "make serve ended early:\n" + out.decode(errors="replace")[-4000:]
        _read(fd, out, 5.0)  # let every process start
        started = len(out)
        os.write(fd, b"\x03")  # Ctrl-C, as typed
        deadline = time.monotonic() + 90
        while _read(fd, out, 1.0):
            assert time.monotonic() < deadline, "still running 90 s after Ctrl-C"
        _, status = os.waitpid(pid, 0)
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)
    text = out.decode(errors="replace")
    shutdown = text[started:]
    assert "Traceback" not in text, shutdown[-6000:]
    assert "Error 130" not in text and "Interrupt" not in shutdown and "make: ***" not in text, shutdown[-3000:]
    assert os.waitstatus_to_exitcode(status) == 0, shutdown[-3000:]
