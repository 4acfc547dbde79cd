"""ImportJob: an uploaded CSV, its column mapping, and the import run by a Celery task.

The admin uploads (``create_import_job``), shows the header for the mapping step
(``preview_import``), then ``start_import_job`` checks the mapping against the file and
enqueues the task after commit. The task calls ``run.run_import_job``, which writes progress to
the job after every chunk (committed, so the admin's poll sees it) and stores the row report.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from campaigns.errors import ApplicationError
from campaigns.models import ImportJob, ImportJobStatus, RecipientList
from campaigns.services.contacts_import.mapping import guess_mapping, resolve_mapping
from campaigns.services.contacts_import.reader import open_csv
from campaigns.tasks_import import import_contacts_task

logger = logging.getLogger(__name__)
MAX_UPLOAD_BYTES = 200 * 1024 * 1024


@dataclass
class ImportPreview:
    header: list[str]
    sample: list[list[str]]
    encoding: str
    delimiter: str
    guess: dict[str, Any]


def create_import_job(*, recipient_list: RecipientList, upload: UploadedFile, created_by: Any = None) -> ImportJob:
    """Store the uploaded file as a pending job (nothing is imported until it is mapped)."""
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        raise ApplicationError("The file is larger than 200 MB: split it.", field="file")
    job = ImportJob(recipient_list=recipient_list, created_by=created_by, original_name=(upload.name or "")[:255])
    job.file.save(upload.name or "contacts.csv", upload, save=False)
    job.save()
    preview_import(job=job)  # refuses an empty or unreadable file now, not in the worker
    return job


def preview_import(*, job: ImportJob, rows: int = 5) -> ImportPreview:
    """The header, the first rows and a guessed mapping, for the mapping step."""
    with job.file.open("rb") as stream:
        csv_file = open_csv(stream)
        sample = []
        for _, fields, problem in csv_file.records:
            sample.append(fields if fields is not None else [problem])
            if len(sample) >= rows:
                break
    return ImportPreview(csv_file.header, sample, csv_file.encoding, csv_file.delimiter, guess_mapping(csv_file.header))


def start_import_job(*, job: ImportJob, mapping: dict[str, Any]) -> ImportJob:
    """Check the mapping against the file, save it and enqueue the import after commit."""
    if job.status != ImportJobStatus.PENDING or job.mapping:
        raise ApplicationError("This import has already been started.", code="invalid_state")
    resolve_mapping(mapping, preview_import(job=job, rows=0).header)
    ImportJob.objects.filter(id=job.id).update(mapping=mapping)
    job.mapping = mapping
    transaction.on_commit(lambda: import_contacts_task.delay(job.id))
    return job
