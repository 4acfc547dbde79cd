"""Operational state of the binds, written by the bind processes for people and scripts.

Each bind process upserts its row every few seconds (``smpp_transport.health``); the admin
page, ``manage.py bind_health`` and ``/metrics`` read it. A row not refreshed for
``STALE_AFTER_S`` belongs to a process that is gone.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone

STALE_AFTER_S = 30


class BindStatus(models.Model):
    name = models.CharField(max_length=200, unique=True, help_text="system_id/mode@host:pid")
    system_id = models.CharField(max_length=16, db_index=True)
    mode = models.CharField(max_length=4, help_text="trx, tx or rx")
    host = models.CharField(max_length=255, help_text="Where the bind process runs.")
    pid = models.PositiveIntegerField()
    smsc = models.CharField(max_length=255, help_text="host:port of the SMSC.")
    state = models.CharField(max_length=16, help_text="connecting, bound, backoff, stopped or auth_failed")
    last_error = models.CharField(max_length=500, blank=True)
    stats = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["system_id", "name"]
        verbose_name = "bind"
        verbose_name_plural = "bind health"

    def __str__(self) -> str:
        return self.name

    @property
    def is_stale(self) -> bool:
        return self.updated_at < timezone.now() - timedelta(seconds=STALE_AFTER_S)

    @property
    def health(self) -> str:
        """What an operator should read first: the state, or 'gone' for a silent process."""
        return "gone" if self.is_stale else self.state
