"""Bookkeeping for long requests: CSV imports in progress, and API idempotency keys."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ImportJobStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    RUNNING = "running", "Importing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ImportJob(models.Model):
    """One CSV upload into a recipient list: its column mapping, progress and row report."""

    recipient_list = models.ForeignKey("campaigns.RecipientList", on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    file = models.FileField(upload_to="imports/%Y/%m/", help_text="The uploaded CSV file.")
    original_name = models.CharField(max_length=255, blank=True)
    mapping = models.JSONField(default=dict, blank=True, help_text="Which CSV column feeds which field.")
    status = models.CharField(max_length=10, choices=ImportJobStatus.choices, default=ImportJobStatus.PENDING)
    rows_total = models.PositiveIntegerField(default=0, help_text="Data rows read so far.")
    imported = models.PositiveIntegerField(default=0, help_text="Contacts added.")
    duplicates = models.PositiveIntegerField(default=0, help_text="Rows whose number was already on the list.")
    rejected = models.PositiveIntegerField(default=0, help_text="Rows refused (see the row report).")
    report = models.FileField(upload_to="imports/reports/%Y/%m/", blank=True, help_text="Rejected rows and why.")
    error = models.TextField(blank=True, help_text="Why the whole import failed, if it did.")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"import into {self.recipient_list_id} ({self.status})"


class IdempotencyKey(models.Model):
    """A single-send API request remembered by its Idempotency-Key header.

    The same key with the same body returns the stored response (no second send); the
    same key with another body is a conflict.
    """

    key = models.CharField(max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    request_hash = models.CharField(max_length=64, help_text="SHA-256 of the canonical request body.")
    response_status = models.PositiveSmallIntegerField(default=0)
    response_body = models.JSONField(default=dict, blank=True)
    message = models.ForeignKey("campaigns.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique_user_key")]

    def __str__(self) -> str:
        return self.key
