"""A process with a pool never holds more PostgreSQL connections than its pool's max size,
however many threads do database work (the bind worker's batch threads)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]

WORKER_SCRIPT = """
import threading, django
django.setup()
from django.db import connection, close_old_connections
def batch():
    for _ in range(5):
        close_old_connections()
        with connection.cursor() as c:
            c.execute("SELECT pg_sleep(0.1)")
        connection.close()  # back to the pool, as Celery does after each task
threads = [threading.Thread(target=batch) for _ in range(20 * 4)]
[t.start() for t in threads]
[t.join() for t in threads]
print("done")
"""


@pytest.mark.django_db(transaction=True)
def test_eighty_batch_threads_share_a_pool_of_three() -> None:
    assert connection.vendor == "postgresql", "the connection budget is a PostgreSQL matter"
    db = connection.settings_dict
    name = f"budget-{uuid.uuid4().hex[:8]}"
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DB_POOL_MAX_SIZE": "3", "DB_APPLICATION_NAME": name}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    worker = subprocess.Popen([sys.executable, "-c", WORKER_SCRIPT], cwd=ROOT, env=env, stdout=subprocess.PIPE)
    peak, seen = 0, 0
    deadline = time.monotonic() + 120
    while worker.poll() is None and time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [name])
            count = cursor.fetchone()[0]
        peak, seen = max(peak, count), seen + (count > 0)
        time.sleep(0.05)
    out, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0 and b"done" in out
    assert seen > 0, "never saw the worker's connections: the application_name did not reach PostgreSQL"
    assert peak <= 3
