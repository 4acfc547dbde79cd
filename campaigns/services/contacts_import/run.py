"""Running a mapped import job to its end (what the import task calls), with its progress.

Apart from :mod:`.jobs` (upload, preview, start): the task module imports this one, and
``jobs`` imports the task to enqueue it, so neither imports the other back.
"""

from __future__ import annotations

import logging

from django.core.files import File
from django.utils import timezone

from campaigns.errors import ApplicationError
from campaigns.models import ImportJob, ImportJobStatus
from campaigns.services.contacts_import.importer import ImportResult, import_contacts_csv

logger = logging.getLogger(__name__)


def _save_progress(job_id: int, result: ImportResult) -> None:
    ImportJob.objects.filter(id=job_id).update(
        rows_total=result.rows, imported=result.imported, duplicates=result.duplicates, rejected=result.rejected
    )


def run_import_job(*, job: ImportJob) -> ImportResult | None:
    """Run a mapped job to the end. A job already done or failed is left alone; one found
    ``running`` (its worker died) starts again: rows it added count as duplicates then."""
    if job.status in (ImportJobStatus.DONE, ImportJobStatus.FAILED) or not job.mapping:
        return None
    ImportJob.objects.filter(id=job.id).update(status=ImportJobStatus.RUNNING)
    try:
        with job.file.open("rb") as stream:
            result = import_contacts_csv(
                recipient_list=job.recipient_list,
                stream=stream,
                mapping=job.mapping,
                created_by=job.created_by,
                progress=lambda r: _save_progress(job.id, r),
            )
    except ApplicationError as exc:
        _fail(job, exc.message)
        return None
    except Exception as exc:
        logger.exception("import job %s failed", job.id)
        _fail(job, f"The import stopped on an unexpected error ({type(exc).__name__}); rows before it were kept.")
        raise
    _save_progress(job.id, result)
    if result.report_path:
        with open(result.report_path, "rb") as report:
            job.report.save(f"import-{job.id}-rows-not-imported.csv", File(report), save=False)
        result.discard_report()
        ImportJob.objects.filter(id=job.id).update(report=job.report.name)
    ImportJob.objects.filter(id=job.id).update(status=ImportJobStatus.DONE, finished_at=timezone.now())
    return result


def _fail(job: ImportJob, message: str) -> None:
    ImportJob.objects.filter(id=job.id).update(status=ImportJobStatus.FAILED, error=message, finished_at=timezone.now())
