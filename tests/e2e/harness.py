"""Run the real process set (beat, dispatch worker, bind workers) against the test database.

Tests using this need committed data (``transactional_db``): the processes are separate
and see only what is committed. Every wait is bounded; on timeout the processes' output is
attached to the failure so a red run explains itself.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """URL of the database the test is using right now (the test database)."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    user = s.get("USER") or "postgres"
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


def wait_until(predicate: Callable[[], bool], *, timeout: float, interval: float = 0.2, what: str = "") -> None:
    """Poll ``predicate`` until true, failing after ``timeout`` seconds (never unbounded)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(interval)


class Platform:
    """The platform's processes for one test, isolated by queue names and a var folder."""

    def __init__(self, tmp_path: Path, *, extra_env: dict[str, str] | None = None) -> None:
        self.tmp = tmp_path
        from django.conf import settings

        self.tag = uuid.uuid4().hex[:8]
        self.env = {
            **os.environ,
            "DATABASE_URL": (extra_env or {}).get("DATABASE_URL") or database_url(),
            "VAR_DIR": str(tmp_path / "var"),
            "CELERY_DEFAULT_QUEUE": f"default-{self.tag}",
            "TICK_INTERVAL_S": "0.5",
            # Recover batches lost with a killed worker quickly (the file-system broker
            # does not redeliver; RabbitMQ does, before these ever fire).
            "QUEUED_STALL_S": "10",
            "SUBMITTING_STALL_S": "20",
            "SMPP_BATCH_TIMEOUT_S": "15",
            "PYTHONUNBUFFERED": "1",
            # This process's keys: each process would otherwise derive its own from the
            # SECRET_KEY generated into its own VAR_DIR and could not read the passwords.
            "SECRETS_KEYS": ",".join(settings.SECRETS_KEYS),
            **(extra_env or {}),
        }
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str], **env: str) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**self.env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs[name] = process
        return process

    def start_beat(self) -> None:
        self.start(
            "beat",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "beat",
                "-l",
                "INFO",
                "-s",
                str(self.tmp / "beat-schedule"),
                "--pidfile=",
            ],
        )

    def start_dispatch_worker(self) -> None:
        self.start(
            "dispatch",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                self.env["CELERY_DEFAULT_QUEUE"],
                "-P",
                "threads",
                "-c",
                "1",
                "-n",
                f"dispatch-{self.tag}@%h",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "INFO",
            ],
        )

    def start_bind_worker(self, system_id: str, index: int, mode: str = "trx", **env: str) -> subprocess.Popen:
        from smpp_transport.management.commands.run_bind_workers import bind_worker_argv

        argv = bind_worker_argv(system_id, index, concurrency=4, loglevel="INFO")
        argv[argv.index("-n") + 1] = f"bind.{system_id}.{index}.{self.tag}@%h"
        return self.start(f"bind-{system_id}-{index}", argv, SMPP_BIND_SYSTEM_ID=system_id, SMPP_BIND_MODE=mode, **env)

    def start_mm4_worker(self, system_id: str, **env: str) -> subprocess.Popen:
        """An MM4 sender worker of ``system_id`` (one SMTP session), reading media where the test wrote them."""
        from django.conf import settings

        from mms_transport.management.commands.run_mm4_workers import mm4_worker_argv

        argv = mm4_worker_argv(system_id, concurrency=2, loglevel="INFO")
        argv[argv.index("-n") + 1] = f"mm4.{system_id}.{self.tag}@%h"
        return self.start(
            f"mm4-{system_id}", argv, MM4_WORKER_SYSTEM_ID=system_id, MEDIA_ROOT=str(settings.MEDIA_ROOT), **env
        )

    def start_mm4_receiver(self, *args: str, timeout: float = 60.0, **env: str) -> int:
        """``manage.py mm4_receiver`` on an ephemeral port; returns the port once it listens.
        Its logins and certificate come from ``env`` (MM4_RECEIVER_AUTH, MM4_RECEIVER_TLS_*)."""
        name = f"mm4-receiver-{sum(n.startswith('mm4-receiver') for n in self.procs)}"
        port_file = self.tmp / f"{name}.port"
        self.start(
            name,
            [sys.executable, "manage.py", "mm4_receiver", "--port", "0", "--port-file", str(port_file), *args],
            **env,
        )
        try:
            wait_until(port_file.exists, timeout=timeout, what="the MM4 receiver to listen")
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}\n{self.logs()}") from None
        return int(port_file.read_text())

    def logs(self) -> str:
        out = []
        for name in self.procs:
            path = self.tmp / f"{name}.log"
            if path.exists():
                out.append(f"----- {name} -----\n{path.read_text(errors='replace')[-4000:]}")
        return "\n".join(out)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.procs[name]
        os.killpg(process.pid, sig)
        process.wait(timeout=30)

    def stop(self, timeout: float = 30.0) -> None:
        for process in self.procs.values():
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + timeout
        for process in self.procs.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
