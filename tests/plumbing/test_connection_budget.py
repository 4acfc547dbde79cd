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


HAND_BACK_SCRIPT = """
import threading, django
django.setup()
from django.db import connection
from plumbing.db import hand_back_connection
on_the_wire, done = threading.Event(), threading.Event()
def batch():  # a step in the database, then a long wait on the wire
    with connection.cursor() as c:
        c.execute("SELECT 1")
    if HAND_BACK:
        hand_back_connection()
    on_the_wire.set()
    done.wait(30)
def other():  # another batch thread's step, while the first waits
    on_the_wire.wait(30)
    try:
        with connection.cursor() as c:
            c.execute("SELECT 1")
        print("other got a connection")
    except Exception as exc:
        print("other starved:", type(exc).__name__)
    finally:
        done.set()
threads = [threading.Thread(target=batch), threading.Thread(target=other)]
[t.start() for t in threads]
[t.join() for t in threads]
"""


@pytest.mark.parametrize("hand_back", [True, False])
@pytest.mark.django_db(transaction=True)
def test_a_thread_waiting_on_the_wire_holds_no_connection_once_handed_back(hand_back: bool) -> None:
    """On a pool of one, a second thread gets the connection only if the first (waiting on
    the wire) handed it back; without, it starves for DB_POOL_TIMEOUT_S."""
    assert connection.vendor == "postgresql", "the connection budget is a PostgreSQL matter"
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DB_POOL_MAX_SIZE": "1", "DB_POOL_TIMEOUT_S": "1"}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    script = f"HAND_BACK = {hand_back}\n" + HAND_BACK_SCRIPT
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, timeout=120, check=True
    ).stdout
    expected = b"other got a connection" if hand_back else b"other starved"
    assert expected in out, out
