"""The platform's shape: migrations, settings defaults, docker-compose, CI wiring."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_models_and_migrations_agree() -> None:
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def _migrate_with(database_url: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "VAR_DIR": str(tmp_path / "var")}
    return subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_migrations_apply_on_sqlite(tmp_path: Path) -> None:
    result = _migrate_with(f"sqlite:///{tmp_path / 'fresh.sqlite3'}", tmp_path)
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres") and os.environ.get("REQUIRE_SERVICES") != "1",
    reason="PostgreSQL not configured (CI sets DATABASE_URL and REQUIRE_SERVICES=1)",
)
def test_migrations_apply_on_postgresql(tmp_path: Path) -> None:
    import psycopg

    base = os.environ["DATABASE_URL"]
    name = f"migrate_check_{os.getpid()}"
    admin_url = base.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        result = _migrate_with(base.rsplit("/", 1)[0] + f"/{name}", tmp_path)
        assert result.returncode == 0, result.stderr
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_embedded_defaults_need_nothing_but_python(tmp_path: Path) -> None:
    """With no environment, SQLite in WAL mode with a busy timeout and a file-system broker."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY"}}
    env["VAR_DIR"] = str(tmp_path / "var")
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "db = s.DATABASES['default']; print(json.dumps([db['ENGINE'], db['OPTIONS'], "
        "s.CELERY_BROKER_URL, s.USE_TZ, s.TIME_ZONE, len(s.SECRET_KEY)]))"
    )
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    engine, options, broker, use_tz, tz, key_len = json.loads(out)
    assert engine == "django.db.backends.sqlite3"
    assert "journal_mode=WAL" in options["init_command"]
    assert options["timeout"] >= 5
    assert broker == "filesystem://"
    assert (use_tz, tz) == (True, "UTC")
    assert key_len >= 40
    # The generated key is kept, so restarts do not log everyone out.
    assert (tmp_path / "var" / "secret_key").read_text().strip()


def test_celery_app_is_crash_safe() -> None:
    from config.celery import account_queues, app

    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert all(q.durable for q in app.conf.task_queues)
    queues = account_queues("localmail01")
    assert (queues.smpp, queues.mm4) == ("smpp.localmail01", "mm4.localmail01")
    with pytest.raises(ValueError):
        account_queues("bad id")


def _entry_point_exists(argv: list[str]) -> None:
    """Check that a compose/Procfile command names something that really exists."""
    program = argv[0]
    if program == "python" and argv[1] == "manage.py":
        from django.core.management import get_commands

        assert argv[2] in get_commands(), f"no manage.py command {argv[2]!r}"
    elif program == "python" and argv[1] == "-c":
        compile(argv[2], "<compose>", "exec")
    elif program == "gunicorn":
        module, _, attr = argv[1].partition(":")
        mod = __import__(module, fromlist=["x"])
        assert hasattr(mod, attr or "application")
    elif program == "celery":
        assert argv[1:3] == ["-A", "config"]
        assert argv[3] in {"worker", "beat", "inspect"}
    else:
        raise AssertionError(f"unknown program {program!r} in {argv}")


def test_docker_compose_commands_exist() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    for required in ("postgres", "rabbitmq", "web", "beat", "worker", "binds", "receipts"):
        assert required in services
    for name, service in services.items():
        if "command" in service and "build" in service:  # our image (redis, caddy: their own programs)
            command = service["command"]
            _entry_point_exists(command if isinstance(command, list) else shlex.split(command))
        if name != "migrate":
            assert service.get("restart") == "unless-stopped", name
    for name in ("postgres", "rabbitmq", "web", "worker", "binds"):
        assert "healthcheck" in services[name], name
    assert (ROOT / ".env.example").exists()


def test_procfile_commands_exist() -> None:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        _, command = line.split(":", 1)
        _entry_point_exists(shlex.split(command))
