"""The ``default`` database from DATABASE_URL, tuned per engine (docs/operations.md).

Kept out of settings.py so the connection budget and the SQLite tuning read as one piece:
which options a PostgreSQL pool needs, and why SQLite runs with WAL and IMMEDIATE.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url


def default_database(
    url: str, *, var_dir: Path, pool_min_size: int, pool_max_size: int, pool_timeout_s: float
) -> dict[str, Any]:
    """Django's settings for the ``default`` database at ``url``.

    PostgreSQL: with ``pool_max_size`` > 0 the process shares that many connections among all
    its threads (Django's psycopg pool) instead of one per thread; the pool needs
    CONN_MAX_AGE = 0, so a thread's connection goes back to the pool on close.
    DB_DISABLE_SERVER_SIDE_CURSORS=1 is for PgBouncer in transaction pooling, where a
    server-side cursor (QuerySet.iterator()) would outlive its transaction's server connection.
    DB_APPLICATION_NAME names the connections in pg_stat_activity.

    SQLite: WAL lets the web process read while a worker writes; the busy timeout turns
    "database is locked" into a short wait; IMMEDIATE avoids lock upgrades deadlocking.
    """
    database = dj_database_url.parse(url, conn_max_age=60)
    if database["ENGINE"] == "django.db.backends.postgresql":
        database.setdefault("OPTIONS", {})
        database["DISABLE_SERVER_SIDE_CURSORS"] = os.environ.get("DB_DISABLE_SERVER_SIDE_CURSORS") == "1"
        if os.environ.get("DB_APPLICATION_NAME"):
            database["OPTIONS"]["application_name"] = os.environ["DB_APPLICATION_NAME"]
        if pool_max_size > 0:
            database["CONN_MAX_AGE"] = 0
            database["OPTIONS"]["pool"] = {
                "min_size": min(pool_min_size, pool_max_size),
                "max_size": pool_max_size,
                "timeout": pool_timeout_s,
            }
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database["CONN_MAX_AGE"] = 0
        database["OPTIONS"] = {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        database["TEST"] = {"NAME": str(var_dir / "test_db.sqlite3")}
    return database
