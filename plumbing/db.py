"""Hand a thread's database connection back to its process's pool between steps.

A bind worker runs several batch threads, a receipt writer and a heartbeat, each with
Django's thread-local connection. Without a pool each holds a PostgreSQL backend for its
whole life; with Django 5.2's psycopg pool (``DB_POOL_MAX_SIZE`` > 0, docs/operations.md)
a connection goes back to the pool only when the thread closes it. The send loop waits on
the wire and on pacing slots far longer than it spends in the database, so it hands its
connection back after each step: a handful of connections then serve every thread.
"""

from __future__ import annotations

from django.db import connection


def hand_back_connection() -> None:
    """Return this thread's connection to the pool, if the process has one and no
    transaction is open; without a pool (each close would cost a new backend) nothing."""
    if (
        connection.settings_dict.get("OPTIONS", {}).get("pool")  # PostgreSQL with a pool (SQLite has none)
        and connection.connection is not None
        and not connection.in_atomic_block
    ):
        connection.close()
