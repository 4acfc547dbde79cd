"""`make run`'s process set, from a fresh checkout, on the embedded defaults.

Clones the repository, runs ``make serve`` (what ``make run`` does after installing) with
this suite's virtualenv, waits for the demo SMS campaign to complete with delivered
messages, stops everything with SIGINT (Ctrl-C) and checks that no process is left.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.harness import ROOT, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _demo_status(db: Path, name: str = "Demo SMS campaign") -> tuple[str, int]:
    if not db.exists():
        return "", 0
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            row = conn.execute(
                "SELECT c.status, (SELECT COUNT(*) FROM campaigns_message m WHERE m.campaign_id = c.id "
                "AND m.status = 'delivered') FROM campaigns_campaign c WHERE c.name = ?",
                [name],
            ).fetchone()
    except sqlite3.OperationalError:  # still migrating
        return "", 0
    return row or ("", 0)


def _no_receipt_reasons(db: Path) -> set[str]:
    with sqlite3.connect(db, timeout=5) as conn:
        rows = conn.execute(
            "SELECT DISTINCT m.reason FROM campaigns_message m JOIN campaigns_campaign c ON c.id = m.campaign_id "
            "WHERE c.name = 'Demo SMS campaign' AND m.status = 'unknown'"
        ).fetchall()
    return {reason for (reason,) in rows}


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_make_run_delivers_the_demo_campaign_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(checkout)], check=True, timeout=120)
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL"}}
    env.update(
        VAR_DIR=str(checkout / "var"),
        WEB_PORT=str(_free_port()),
        SMSC_SIMULATOR_PORT=str(_free_port()),
        MM4_SIMULATOR_PORT=str(_free_port()),
        MM4_SIMULATOR_TLS_PORT=str(_free_port()),
        MM4_RECEIVER_PORT=str(_free_port()),
        CELERY_DEFAULT_QUEUE=f"default-{os.getpid()}",
        PYTHONUNBUFFERED="1",
    )
    venv = Path(sys.executable).parent.parent
    log = open(tmp_path / "make-run.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        ["make", "serve", f"VENV={venv}"],
        cwd=checkout,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    db = checkout / "var" / "db.sqlite3"
    try:

        def completed() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"make serve exited with {process.returncode}")
            return _demo_status(db)[0] == "completed"

        wait_until(completed, timeout=240, interval=1.0, what="demo completed")
        status, delivered = _demo_status(db)
        assert delivered > 800  # 1,000 demo contacts, ~90 % delivered by the simulator's mix
        # The simulator sends no receipt for 2 %: the demo's one-minute deadline settled them.
        assert _no_receipt_reasons(db) == {"no delivery receipt within 1 min"}
        # The demo MMS campaign completes too, its reports naming our X-Mms-Message-ID (TS 23.140).
        wait_until(
            lambda: _demo_status(db, "Demo MMS campaign")[0] == "completed",
            timeout=120,
            interval=1.0,
            what="demo MMS campaign completed",
        )
        with sqlite3.connect(db, timeout=5) as conn:
            named = conn.execute(
                "SELECT r.provider_message_id = p.local_message_id, r.state, COUNT(*) FROM campaigns_receipt r "
                "JOIN campaigns_messagepart p ON p.id = r.part_id WHERE r.channel = 'mm4' GROUP BY 1, 2"
            ).fetchall()
        assert [(ours, state) for ours, state, _ in named] == [(1, "applied")], named
    except BaseException:
        log.flush()
        print((tmp_path / "make-run.log").read_text(errors="replace")[-6000:])
        raise
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)  # Ctrl-C
        try:
            process.wait(timeout=90)
        finally:
            log.close()
    wait_until(lambda: not _group_alive(process.pid), timeout=60, what="every process of make run gone")
