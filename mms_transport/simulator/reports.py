"""Delivery of the simulator's MM4 reports to the platform's inbound receiver, over SMTP.

A background thread holds a due-time heap. Each report is sent when due over one SMTP
session that stays open while reports keep coming (and closes when the heap runs dry); a
report the receiver does not take (4xx, connection refused, no reply) is retried after
``retry_s``, one it refuses outright (5xx) is counted and dropped — what a provider does.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mms_transport.client import ConnectFailed, Endpoint, MM4Error, MM4Session

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Report:
    kind: str  # MM4_forward.RES or MM4_delivery_report.REQ
    message_id: str
    status: str
    mail_from: str
    rcpt_to: str
    data: bytes


class ReportSender:
    """A thread that sends :class:`Report` objects to the receiver when they are due."""

    def __init__(
        self,
        endpoint: Endpoint | None,
        *,
        counters: dict[str, int],
        on_change: Callable[[], None],
        retry_s: float = 1.0,
    ) -> None:
        self.endpoint = endpoint
        self.counters = counters
        self.on_change = on_change
        self.retry_s = retry_s
        self.log: list[dict[str, Any]] = []
        self._heap: list[tuple[float, int, Report]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._session: MM4Session | None = None

    def start(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="mm4-sim-reports", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        session = self._session
        if session is not None:
            session.abort()  # a send blocked on an unresponsive receiver ends now
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def set_endpoint(self, endpoint: Endpoint | None) -> None:
        with self._cond:
            self.endpoint = endpoint
            self._cond.notify_all()

    def schedule(self, report: Report, delay_s: float) -> None:
        with self._cond:
            if self.endpoint is None:
                self.counters["reports_skipped"] += 1
                return
            heapq.heappush(self._heap, (time.monotonic() + delay_s, next(self._seq), report))
            self.counters["reports_queued"] += 1
            self._cond.notify_all()

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._heap)

    def _next_due(self) -> Report | None:
        """Block until a report is due (None when stopping); close an idle session meanwhile."""
        with self._cond:
            while not self._stopping:
                now = time.monotonic()
                if self._heap and self._heap[0][0] <= now:
                    return heapq.heappop(self._heap)[2]
                if not self._heap and self._session is not None:
                    session, self._session = self._session, None
                    self._cond.release()
                    try:
                        session.close()
                    finally:
                        self._cond.acquire()
                    continue
                self._cond.wait(self._heap[0][0] - now if self._heap else None)
            return None

    def _run(self) -> None:
        while (report := self._next_due()) is not None:
            outcome, reply = self._send(report)
            entry = {
                "kind": report.kind,
                "message_id": report.message_id,
                "status": report.status,
                "rcpt_to": report.rcpt_to,
                "outcome": outcome,
                "reply": reply,
                "ts": time.time(),
            }
            with self._cond:
                self.log.append(entry)
                if outcome == "accepted":
                    self.counters["reports_sent"] += 1
                elif outcome == "failed":
                    self.counters["reports_refused"] += 1
                else:
                    self.counters["reports_retried"] += 1
                    heapq.heappush(self._heap, (time.monotonic() + self.retry_s, next(self._seq), report))
            self.on_change()
        if self._session is not None:
            self._session.close()

    def _send(self, report: Report) -> tuple[str, str]:
        endpoint = self.endpoint
        if endpoint is None:
            return "retry", "no receiver configured"
        if self._session is None or not self._session.connected or self._session.endpoint != endpoint:
            if self._session is not None:
                self._session.close()
            self._session = MM4Session(endpoint)
            try:
                self._session.connect()
            except (ConnectFailed, MM4Error) as exc:
                logger.info("receiver %s:%s unavailable: %s", endpoint.host, endpoint.port, exc)
                return "retry", str(exc)
        result = self._session.send(report.mail_from, report.rcpt_to, report.data)
        return result.outcome, result.reply
