"""Production settings from the environment, each case a fresh process with only that
environment: ``HTTPS=on`` passes ``manage.py check --deploy --fail-level WARNING``; weak
secrets refuse to start with a message that says what to set; the demo's generated key
keeps working; the API throttle rates come from the environment.

A subprocess per case because settings are read once, at start, exactly as a deployment
reads them.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = secrets.token_urlsafe(50)
METRICS = secrets.token_urlsafe(24)
FERNET_KEY = Fernet.generate_key().decode()
PRODUCTION = {
    "HTTPS": "on",
    "SECRET_KEY": STRONG_KEY,
    "METRICS_TOKEN": METRICS,
    "ALLOWED_HOSTS": "sms.example.com",
    "SECRETS_KEYS": FERNET_KEY,
}

# What a request sees, printed as JSON by a process started with the environment under test.
PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
client = Client(HTTP_HOST="sms.example.com")
plain = client.get("/admin/login/")
secure = client.get("/admin/login/", HTTP_X_FORWARDED_PROTO="https")
schema = [client.get("/api/schema/").status_code for _ in range(3)] if not settings.HTTPS else []
print(json.dumps({
    "plain": [plain.status_code, plain.get("Location")],
    "secure": [secure.status_code, secure.get("Strict-Transport-Security")],
    "csp": secure.get("Content-Security-Policy"),
    "csrf_cookie_secure": bool(secure.cookies["csrftoken"]["secure"]) if "csrftoken" in secure.cookies else None,
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "schema": schema,
}))
"""


def run(*args: str, env: dict[str, str], var_dir: Path) -> subprocess.CompletedProcess[str]:
    """Run with only ``env`` (plus PATH): SQLite and the file broker under ``var_dir``."""
    clean = {"PATH": os.environ["PATH"], "VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "config.settings", **env}
    return subprocess.run(args, cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120)


def manage(*args: str, env: dict[str, str], var_dir: Path) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, "manage.py", *args, env=env, var_dir=var_dir)


def probe(env: dict[str, str], var_dir: Path) -> dict:
    done = run(sys.executable, "-c", PROBE, env=env, var_dir=var_dir)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def refusal(done: subprocess.CompletedProcess[str]) -> str:
    """The one line a refused start ends with."""
    assert done.returncode != 0, done.stdout
    return done.stderr.strip().splitlines()[-1]


def test_check_deploy_passes_with_https_on_and_a_strong_key(tmp_path) -> None:
    done = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION, var_dir=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "System check identified no issues" in done.stdout


def test_check_deploy_fails_without_https(tmp_path) -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != "HTTPS"}
    done = manage("check", "--deploy", "--fail-level", "WARNING", env=env, var_dir=tmp_path)
    assert done.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in done.stderr


def test_https_on_redirects_sets_hsts_secure_cookies_and_trusts_the_proxy_header(tmp_path) -> None:
    seen = probe(PRODUCTION, tmp_path)
    assert seen["plain"] == [301, "https://sms.example.com/admin/login/"]
    assert seen["secure"] == [200, "max-age=31536000; includeSubDomains"]
    assert seen["csrf_cookie_secure"] is True and seen["session_cookie_secure"] is True
    assert "default-src 'self'" in seen["csp"] and "frame-ancestors 'none'" in seen["csp"]
    tuned = probe({**PRODUCTION, "SECURE_HSTS_SECONDS": "600", "SECURE_HSTS_PRELOAD": "on"}, tmp_path)
    assert tuned["secure"] == [200, "max-age=600; includeSubDomains; preload"]


def test_without_https_nothing_redirects(tmp_path) -> None:
    seen = probe({"ALLOWED_HOSTS": "sms.example.com"}, tmp_path)
    assert seen["plain"] == [200, None] and seen["secure"] == [200, None]
    assert seen["csrf_cookie_secure"] is False and seen["session_cookie_secure"] is False


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("change-me-to-a-long-random-string", "SECRET_KEY is a placeholder."),
        ("django-insecure-" + "k" * 50, "SECRET_KEY is a placeholder."),
        ("s3cr3t", "SECRET_KEY is too short (6 characters, at least 50 needed)."),
        ("ab" * 30, "SECRET_KEY has fewer than 5 different characters."),
    ],
)
def test_a_weak_secret_key_refuses_to_start_with_debug_off(tmp_path, key: str, reason: str) -> None:
    line = refusal(manage("check", env={"SECRET_KEY": key}, var_dir=tmp_path))
    assert line.startswith(f"django.core.exceptions.ImproperlyConfigured: {reason} Set SECRET_KEY to a long random")
    assert "secrets.token_urlsafe(50)" in line


def test_debug_on_allows_a_weak_key_for_development(tmp_path) -> None:
    assert manage("check", env={"SECRET_KEY": "dev", "DEBUG": "true"}, var_dir=tmp_path).returncode == 0


def test_the_demo_key_is_generated_once_and_works_with_debug_off(tmp_path) -> None:
    assert manage("check", env={}, var_dir=tmp_path).returncode == 0
    key_file = tmp_path / "secret_key"
    key = key_file.read_text()
    assert len(key) >= 50 and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert manage("check", env={}, var_dir=tmp_path).returncode == 0
    assert key_file.read_text() == key  # kept: a restart logs nobody out


def test_https_on_needs_the_key_from_the_environment(tmp_path) -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    line = refusal(manage("check", env=env, var_dir=tmp_path))
    assert "HTTPS=on needs SECRET_KEY in the environment" in line
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize("env", [{**PRODUCTION, "SECRETS_KEYS": ""}, {"SECRET_KEY": STRONG_KEY}])
def test_without_secrets_keys_a_deployment_refuses_to_start(tmp_path, env: dict[str, str]) -> None:
    """DEBUG off with SECRET_KEY from the environment (or HTTPS=on) is a deployment: its
    stored passwords need their own key, not one derived from the signing key."""
    line = refusal(manage("check", env=env, var_dir=tmp_path))
    assert line.startswith("django.core.exceptions.ImproperlyConfigured: SECRETS_KEYS is not set: it encrypts the")
    assert "Fernet.generate_key()" in line


def test_a_secrets_key_that_is_not_a_fernet_key_refuses_to_start(tmp_path) -> None:
    env = {**PRODUCTION, "SECRETS_KEYS": f"{FERNET_KEY}, not-a-key"}
    line = refusal(manage("check", env=env, var_dir=tmp_path))
    assert "SECRETS_KEYS: key 2 of 2 is not a Fernet key (32 bytes in URL-safe base64, 44 characters)" in line


def test_the_demo_and_debug_derive_the_secrets_key(tmp_path) -> None:
    assert manage("check", env={"SECRET_KEY": "dev", "DEBUG": "true"}, var_dir=tmp_path).returncode == 0
    assert manage("check", env={}, var_dir=tmp_path).returncode == 0  # the key generated into var/


@pytest.mark.parametrize("token", ["", "short", "change-me-metrics-token"])
def test_https_on_needs_a_metrics_token(tmp_path, token: str) -> None:
    line = refusal(manage("check", env={**PRODUCTION, "METRICS_TOKEN": token}, var_dir=tmp_path))
    assert "HTTPS=on needs METRICS_TOKEN: /metrics shows campaign ids and bind names" in line


def test_api_throttle_rates_come_from_the_environment(tmp_path) -> None:
    assert probe({"ALLOWED_HOSTS": "sms.example.com", "API_THROTTLE_ANON": "2/minute"}, tmp_path)["schema"] == [
        200,
        200,
        429,
    ]
    assert probe({"ALLOWED_HOSTS": "sms.example.com", "API_THROTTLE_ANON": "off"}, tmp_path)["schema"] == [200] * 3
    line = refusal(manage("check", env={"API_THROTTLE_USER": "lots"}, var_dir=tmp_path))
    assert "API_THROTTLE_USER='lots' is not a rate: write requests/period, e.g. 100/minute" in line
