"""Logging filters: keep the logs for people.

- ``NoTracebackForClientErrors``: Django logs a refused request (403, 404 by a raised
  exception, 400) with the exception attached, which printed a full traceback for a
  marketer opening a page they may not see. A client error is one line; 5xx keep theirs.
- ``QuietTick``: the beat schedules ``campaigns.tick`` every second and the worker logs its
  receipt and success; three INFO lines a second buried everything else. Dropped below
  WARNING; a failing tick (ERROR) is still logged.
"""

from __future__ import annotations

import logging

QUIET_TASKS = ("campaigns.tick",)
CELERY_LOGGERS = ("celery.beat", "celery.worker.strategy", "celery.app.trace", "celery.worker.request")


class NoTracebackForClientErrors(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500 and record.exc_info:
            record.exc_info = None
            record.exc_text = None
        return True


class QuietTick(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a record whose args do not fit is not ours to drop
            return True
        return not any(name in message for name in QUIET_TASKS)


def quiet_celery_ticks() -> None:
    """Attach ``QuietTick`` to the loggers Celery writes task lines with (whatever handlers
    Celery or Django set up: a logger's filter sees every record made on it)."""
    for name in CELERY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, QuietTick) for f in logger.filters):
            logger.addFilter(QuietTick())
