"""The MM4 management commands: which accounts get a worker, and the worker's command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mms_transport.management.commands.run_mm4_workers import mm4_worker_accounts, mm4_worker_argv
from tests.factories import AccountFactory
from tests.mms_transport.conftest import API_KEY, SYSTEM_ID, RawClient

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_only_active_accounts_with_an_mm4_host_and_no_stop_get_a_worker() -> None:
    AccountFactory(system_id="ok1", mm4_host="mmsc.example.net")
    AccountFactory(system_id="ok2", mm4_host="mmsc.example.net")
    AccountFactory(system_id="nohost", mm4_host="")
    AccountFactory(system_id="inactive", mm4_host="mmsc.example.net", active=False)
    AccountFactory(system_id="stopped", mm4_host="mmsc.example.net", mm4_stopped_reason="MM4 login refused: 535")
    assert mm4_worker_accounts() == ["ok1", "ok2"]
    assert mm4_worker_accounts(["ok2", "stopped"]) == ["ok2"]


def test_the_worker_consumes_the_account_s_mm4_queue_on_the_threads_pool() -> None:
    argv = mm4_worker_argv("acme", concurrency=2, loglevel="INFO")
    assert argv[argv.index("-Q") + 1] == "mm4.acme" and argv[argv.index("-P") + 1] == "threads"


@pytest.mark.timeout(60)
def test_manage_py_mm4_simulator_serves(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "mm4_simulator",
            "--port",
            "0",
            "--account",
            f"{SYSTEM_ID}:{API_KEY}",
            "--eml-dir",
            str(tmp_path),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode()
        assert line.startswith("MM4 simulator on plain 127.0.0.1:"), line
        client = RawClient(int(line.split("127.0.0.1:")[1].split(";")[0]))
        assert client.cmd("AUTH LOGIN") == "503 ERROR: send EHLO first"
        client.close()
    finally:
        process.terminate()
        assert process.wait(timeout=20) == 0
