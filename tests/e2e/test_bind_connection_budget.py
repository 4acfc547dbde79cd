"""A bind worker on a pool of ONE connection sends a campaign with four batch threads, its
receipts and its heartbeat (issue 18's budget): the send loop hands its connection back
after every step, the receipt writer and heartbeat after each write, the main thread once
the bind is open, so no thread pins the one connection while it waits."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection

from campaigns.models import Message
from campaigns.services import campaign_actions as actions
from campaigns.statuses import MessageStatus as S
from smpp_transport.smsc import SimulatorConfig, SimulatorThread
from tests.e2e.harness import Platform
from tests.e2e.test_sms_campaign import PASSWORD, _accepted_submits, _duplicates, _make_campaign, _wait_completed

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.timeout(600)]

RECIPIENTS = 600  # 12 s at 50/s: batches wait on the bind's pacing, longer than the pool's timeout


class BackendSampler:
    """Counts the backends of one application_name, sampled every 20 ms on its own thread."""

    def __init__(self, name: str) -> None:
        self.name, self.peak, self.samples = name, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from django.db import connection as own  # this thread's own connection

        try:
            while not self._stop.wait(0.02):
                with own.cursor() as cursor:
                    cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [self.name])
                    count = cursor.fetchone()[0]
                self.peak, self.samples = max(self.peak, count), self.samples + (count > 0)
        finally:
            own.close()

    def __enter__(self) -> BackendSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)


def test_four_batch_threads_receipts_and_heartbeat_share_a_pool_of_one(tmp_path) -> None:
    assert connection.vendor == "postgresql", "the connection budget is a PostgreSQL matter"
    system_id = f"pool{uuid.uuid4().hex[:10]}"
    name = f"bind-budget-{uuid.uuid4().hex[:8]}"
    config = SimulatorConfig(
        host="127.0.0.1",
        port=0,
        accounts={system_id: PASSWORD},
        rate_per_bind=50.0,
        dlr_delay_s=0.05,
        outcomes={"DELIVRD": 100},
        seed=3,
    )
    platform = Platform(tmp_path)
    try:
        with SimulatorThread(config) as sim:
            campaign = _make_campaign(system_id, sim.port, RECIPIENTS, rate=50, binds=1)
            platform.start_dispatch_worker()
            platform.start_bind_worker(
                system_id, 0, DB_POOL_MAX_SIZE="1", DB_POOL_TIMEOUT_S="3", DB_APPLICATION_NAME=name
            )
            assert sim.wait_for_binds(1, timeout=60), platform.logs()
            platform.start_beat()
            with BackendSampler(name) as sampler:
                actions.send_now(campaign=campaign)
                _wait_completed(campaign, platform, timeout=300)
            submits = _accepted_submits(sim)
    finally:
        platform.stop()
    log = (tmp_path / f"bind-{system_id}-0.log").read_text(errors="replace")
    # A thread that held its connection across the wire would starve the others: they give
    # up after DB_POOL_TIMEOUT_S (3 s) and their batches fail.
    assert "Traceback" not in log and "PoolTimeout" not in log, log[-4000:]
    assert Message.objects.filter(campaign=campaign, status=S.DELIVERED).count() == RECIPIENTS
    assert len(submits) == RECIPIENTS and _duplicates(submits) == []
    assert sampler.samples > 0, "never saw the bind worker's connections: DB_APPLICATION_NAME did not reach PostgreSQL"
    assert sampler.peak <= 1, f"the bind worker held {sampler.peak} connections on a pool of 1"
