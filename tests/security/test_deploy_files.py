"""The production files: docker-compose.yml and .env.example carry no default credentials
(every secret is a required variable, no RabbitMQ guest), the web app sits behind the HTTPS
proxy with HTTPS=on, the MM4 receiver gets its AUTH and TLS settings, and the image runs as
an unprivileged user with no secret key baked in.

Compose itself is not run here (no container engine on the test machines): the files are
read as compose reads them, and the image's one settings-loading build step is run as the
build runs it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()
COMPOSE = yaml.safe_load(COMPOSE_TEXT)
SERVICES = COMPOSE["services"]
ENV_EXAMPLE = (ROOT / ".env.example").read_text()
DOCKERFILE = (ROOT / "Dockerfile").read_text()
SECRETS = ("POSTGRES_PASSWORD", "RABBITMQ_PASSWORD", "SECRET_KEY", "METRICS_TOKEN", "MM4_RECEIVER_AUTH", "SECRETS_KEYS")
APP_SERVICES = ("migrate", "web", "beat", "worker", "binds", "receipts", "mm4", "mm4receiver")


def example_values() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in ENV_EXAMPLE.splitlines() if line and not line.startswith("#"))
    return {name: value for name, value in pairs}


def test_no_guest_account_and_no_default_password() -> None:
    for text in (COMPOSE_TEXT, ENV_EXAMPLE):
        assert "guest:guest" not in text and "change-me" not in text
    assert re.search(r"\$\{\w+:-", COMPOSE_TEXT) is None  # no variable falls back to a default
    assert SERVICES["rabbitmq"]["environment"]["RABBITMQ_DEFAULT_USER"] == "campaigns"


def test_every_secret_is_required_and_empty_in_the_example() -> None:
    used = set(re.findall(r"\$\{(\w+)", COMPOSE_TEXT))
    required = set(re.findall(r"\$\{(\w+):\?", COMPOSE_TEXT))
    assert set(SECRETS) <= required and used == required | {"SITE_ADDRESS"}
    values = example_values()
    for name in SECRETS:
        assert values[name] == "", f"{name} must be generated, not copied from the example"
    assert set(required) <= set(values)  # every required variable is in the example


def test_the_app_runs_with_https_on_behind_the_proxy_with_one_shared_key() -> None:
    for name in APP_SERVICES:
        env = SERVICES[name]["environment"]
        assert env["HTTPS"] == "on" and env["TRUSTED_PROXY_COUNT"] == "1", name
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?"), name  # from .env, not generated per container
        assert env["SECRETS_KEYS"].startswith("${SECRETS_KEYS:?"), name  # the stored passwords' keys, shared
        assert env["DATABASE_URL"].startswith("postgres://campaigns:${POSTGRES_PASSWORD:?"), name
        assert env["CELERY_BROKER_URL"].startswith("amqp://campaigns:${RABBITMQ_PASSWORD:?"), name
    assert "ports" not in SERVICES["web"] and SERVICES["web"]["expose"] == ["8000"]
    proxy = SERVICES["https"]
    assert proxy["ports"] == ["80:80", "443:443"] and proxy["command"][-2:] == ["--to", "web:8000"]


def test_the_mm4_receiver_is_published_with_auth_and_tls_settings() -> None:
    receiver = SERVICES["mm4receiver"]
    env = receiver["environment"]
    for name in ("MM4_RECEIVER_AUTH", "MM4_RECEIVER_TLS_CERT", "MM4_RECEIVER_TLS_KEY"):
        assert env[name].startswith(f"${{{name}:?"), name
    assert "./certs:/certs:ro" in receiver["volumes"] and receiver["ports"] == ["2526:2526"]
    assert example_values()["MM4_RECEIVER_TLS_CERT"].startswith("/certs/")
    # No credential on a command line (ps shows it): the receiver has no option for one.
    assert not any("auth" in arg.lower() or ":" in arg for arg in receiver["command"]), receiver["command"]
    procfile = (ROOT / "Procfile").read_text()
    [demo] = [line for line in procfile.splitlines() if line.startswith("mm4receiver:")]
    assert "--auth" not in demo and "MM4_RECEIVER_AUTH" not in demo and "--insecure" not in demo


def test_the_image_runs_as_an_unprivileged_user() -> None:
    lines = [line.strip() for line in DOCKERFILE.splitlines() if line.strip() and not line.startswith("#")]
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    last_run = max(i for i, line in enumerate(lines) if line.startswith("RUN "))
    assert lines.index(f"USER {users[-1]}") > last_run
    assert f"useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin {users[-1]}" in DOCKERFILE


def test_the_build_step_bakes_no_secret_key_into_the_image(tmp_path) -> None:
    """The Dockerfile's collectstatic, with its throwaway key: it works and writes no key file."""
    assert "DEBUG=1 SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput" in DOCKERFILE
    env = {"PATH": os.environ["PATH"], "VAR_DIR": str(tmp_path), "DEBUG": "1", "SECRET_KEY": "collectstatic-only"}
    done = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "static" / "drf_spectacular_sidecar").is_dir()  # Swagger UI is in the image
    assert not (tmp_path / "secret_key").exists()
