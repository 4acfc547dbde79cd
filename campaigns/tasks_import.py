"""The Celery task that runs a CSV import: fetch the job by id, call the service, nothing else."""

from __future__ import annotations

from celery import shared_task

from campaigns.models import ImportJob
from campaigns.services.contacts_import.run import run_import_job


@shared_task(name="campaigns.import_contacts", ignore_result=True)
def import_contacts_task(job_id: int) -> None:
    job = ImportJob.objects.select_related("recipient_list").filter(id=job_id).first()
    if job is not None:
        run_import_job(job=job)
