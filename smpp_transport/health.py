"""Publish this process's bind state: a heartbeat row in the database and Prometheus metrics.

The bind's counters are read when published (every ``interval_s``) or scraped, never
updated on the hot path, so observability costs nothing per message.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from django.conf import settings
from django.db import close_old_connections
from prometheus_client import REGISTRY, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from plumbing.db import hand_back_connection
from smpp_transport.bind import Bind

logger = logging.getLogger(__name__)


class BindCollector:
    """Prometheus collector over one Bind's stats (read at scrape time)."""

    def __init__(self, bind: Bind, system_id: str, mode: str) -> None:
        self.bind, self.labels = bind, [system_id, mode, f"{socket.gethostname()}:{os.getpid()}"]

    def collect(self):
        stats, names = self.bind.stats, ["system_id", "mode", "bind"]
        up = GaugeMetricFamily("smpp_bind_up", "1 when the bind is bound", labels=names)
        up.add_metric(self.labels, 1.0 if self.bind.state == "bound" else 0.0)
        yield up
        window = GaugeMetricFamily("smpp_bind_window_in_use", "submit_sm awaiting a response", labels=names)
        window.add_metric(self.labels, float(stats.get("window_in_use", 0)))
        yield window
        for key, help_text in (
            ("submits", "submit_sm written"),
            ("throttles", "ESME_RTHROTTLED / ESME_RMSGQFUL answers"),
            ("reconnects", "reconnections after a loss"),
            ("delivers", "deliver_sm received (receipts and MO)"),
        ):
            counter = CounterMetricFamily(f"smpp_bind_{key}", help_text, labels=names)
            counter.add_metric(self.labels, float(stats.get(key, 0)))
            yield counter
        responses = CounterMetricFamily("smpp_bind_responses", "submit_sm_resp by status", labels=[*names, "status"])
        for status, count in (stats.get("responses") or {}).items():
            responses.add_metric([*self.labels, str(status)], float(count))
        yield responses
        last = stats.get("last_enquire_link_resp_at")
        if last is not None:
            gauge = GaugeMetricFamily(
                "smpp_bind_seconds_since_enquire_link_resp", "age of the last enquire_link_resp", labels=names
            )
            gauge.add_metric(self.labels, max(0.0, time.time() - float(last)))
            yield gauge


class RoutingMarks:
    """When this bind was last bound, and since when it has only been throttled: what routes
    read to tell an account that cannot send (``smpp_transport.availability``)."""

    def __init__(self) -> None:
        self.last_bound_at: float | None = None
        self.throttled_since: float | None = None
        self._throttles, self._ok = 0, 0

    def marks(self, state: str, stats: dict, now: float) -> dict[str, float | None]:
        if state == "bound":
            self.last_bound_at = now
        throttles = int(stats.get("throttles") or 0)
        ok = int((stats.get("responses") or {}).get("ESME_ROK", 0))
        if throttles > self._throttles and ok == self._ok:
            self.throttled_since = self.throttled_since or now
        elif ok > self._ok:
            self.throttled_since = None
        self._throttles, self._ok = throttles, ok
        return {"last_bound_at": self.last_bound_at, "throttled_since": self.throttled_since}


class Heartbeat:
    """Upsert this process's BindStatus row every ``interval_s`` until stopped."""

    def __init__(self, bind: Bind, *, system_id: str, mode: str, smsc: str, interval_s: float = 5.0) -> None:
        self.bind, self.system_id, self.mode, self.smsc = bind, system_id, mode, smsc
        self.interval_s = interval_s
        self.name = f"{system_id}/{mode}@{socket.gethostname()}:{os.getpid()}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bind-heartbeat", daemon=True)
        self._routing = RoutingMarks()

    def start(self) -> Heartbeat:
        port = settings.SMPP_METRICS_PORT
        self._collector = BindCollector(self.bind, self.system_id, self.mode)
        REGISTRY.register(self._collector)
        if port:
            start_http_server(int(port), addr=settings.SMPP_METRICS_ADDR)
        self._thread.start()
        return self

    def publish(self) -> None:
        from smpp_transport.models import BindStatus

        close_old_connections()
        stats = {k: v for k, v in self.bind.stats.items() if isinstance(v, int | float | str | dict | None)}
        stats.update(self._routing.marks(self.bind.state, stats, time.time()))
        BindStatus.objects.update_or_create(
            name=self.name,
            defaults={
                "system_id": self.system_id,
                "mode": self.mode,
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "smsc": self.smsc,
                "state": self.bind.state,
                "last_error": (self.bind.last_error or "")[:500],
                "stats": stats,
            },
        )
        hand_back_connection()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.publish()
            except Exception:  # noqa: BLE001 - health reporting must never take the bind down
                logger.exception("could not publish bind health")
            self._stop.wait(self.interval_s)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        REGISTRY.unregister(self._collector)
        try:
            self.publish()  # the final state ("stopped") for whoever looks next
        except Exception:  # noqa: BLE001
            logger.exception("could not publish the final bind health")


def bind_health_metrics():
    """``smpp_bind_healthy`` per bind row, for the web's /metrics (registered in apps.py):
    1 when the bind reports itself bound and its heartbeat is fresh."""
    from smpp_transport.models import BindStatus

    up = GaugeMetricFamily("smpp_bind_healthy", "1 when a bind reports itself bound and fresh", labels=["bind"])
    for status in BindStatus.objects.all():
        up.add_metric([status.name], 1.0 if status.health == "bound" else 0.0)
    yield up
