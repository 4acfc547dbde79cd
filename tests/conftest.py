"""Shared fixtures.

With REQUIRE_SERVICES=1 (set by .ci/run) the suite must run on PostgreSQL and RabbitMQ:
a missing service fails the run at start instead of letting tests skip.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import pytest


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=5):
            return True
    except OSError:
        return False


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("REQUIRE_SERVICES") != "1":
        return
    checks = {
        "DATABASE_URL": (os.environ.get("DATABASE_URL", ""), 5432, "postgres"),
        "CELERY_BROKER_URL": (os.environ.get("CELERY_BROKER_URL", ""), 5672, "amqp"),
    }
    for name, (url, port, scheme) in checks.items():
        if not url.startswith(scheme):
            raise pytest.UsageError(f"REQUIRE_SERVICES=1 but {name} is not a {scheme} URL: {url!r}")
        if not _reachable(url, port):
            raise pytest.UsageError(f"REQUIRE_SERVICES=1 but {name} cannot be reached")


@pytest.fixture
def roles(django_db_blocker):
    """The role groups, recreated if a transactional test flushed them (flush empties every
    table, data migrations' rows included)."""
    from campaigns.roles import sync_roles

    with django_db_blocker.unblock():
        sync_roles()


@pytest.fixture(autouse=True, scope="session")
def _processes_share_the_secrets_keys() -> None:
    """Processes a test starts (workers, receivers, management commands) get this process's
    SECRETS_KEYS: each would otherwise derive its own from the SECRET_KEY generated into its
    own VAR_DIR, and could not read the account passwords the test stored."""
    from django.conf import settings

    os.environ["SECRETS_KEYS"] = ",".join(settings.SECRETS_KEYS)


@pytest.fixture(autouse=True)
def _no_cached_webhook_endpoints():
    """A test's endpoints (rolled back with it) must not make the next test's status writes
    look for them: the outbox caches "is any endpoint active?" per process for seconds."""
    yield
    from campaigns.services.webhook_outbox import forget_endpoints

    forget_endpoints()
