"""Shared start-up for benchmarks: a dedicated PostgreSQL database, migrated, and Django."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/postgres"


def _named(name: str) -> str:
    """``name`` with BENCH_DB_SUFFIX appended, so that benchmarks run side by side (several
    checkouts on one PostgreSQL server) never drop each other's database."""
    return name + os.environ.get("BENCH_DB_SUFFIX", "")


def use_bench_database(name: str) -> str:
    """Point Django at a fresh database ``name`` on the PostgreSQL server of BENCH_PG_URL."""
    import psycopg

    name = _named(name)
    server = os.environ.get("BENCH_PG_URL", DEFAULT_PG)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = server.rsplit("/", 1)[0] + f"/{name}"
    os.environ["DATABASE_URL"] = url
    return url


def setup_django(migrate: bool = True) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def drop_database(name: str) -> None:
    import psycopg
    from django.db import connections

    name = _named(name)

    connections.close_all()
    server = os.environ.get("BENCH_PG_URL", DEFAULT_PG)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
