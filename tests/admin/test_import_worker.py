"""The import task in a real Celery worker process: progress written, report stored."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.models import Contact, ImportJob, ImportJobStatus
from campaigns.services.contacts_import.jobs import create_import_job, start_import_job
from campaigns.tasks_import import import_contacts_task
from tests.e2e.harness import Platform, wait_until
from tests.factories import RecipientListFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]


def test_a_worker_runs_the_import_job(tmp_path, monkeypatch) -> None:
    # The worker shares this process's VAR_DIR: the same media folder (the uploaded file)
    # and, with the file-system broker, the same broker folder.
    platform = Platform(tmp_path, extra_env={"VAR_DIR": str(settings.VAR_DIR)})
    queue = platform.env["CELERY_DEFAULT_QUEUE"]
    monkeypatch.setattr(import_contacts_task, "delay", lambda job_id: import_contacts_task.apply_async(
        args=[job_id], queue=queue))  # fmt: skip
    try:
        platform.start_dispatch_worker()
        lst = RecipientListFactory()
        rows = "".join(f"+4479111{i:05d},N{i}\n" for i in range(12000)) + "+4479,bad\n"
        upload = SimpleUploadedFile("big.csv", ("phone,first\n" + rows).encode(), content_type="text/csv")
        job = create_import_job(recipient_list=lst, upload=upload)
        start_import_job(job=job, mapping={"phone": "phone", "first_name": "first"})

        def finished() -> bool:
            job.refresh_from_db()
            return job.status in (ImportJobStatus.DONE, ImportJobStatus.FAILED)

        try:
            wait_until(finished, timeout=120, what="import job finished")
        except TimeoutError:
            pytest.fail(platform.logs())
        assert job.status == ImportJobStatus.DONE, job.error
        assert (job.rows_total, job.imported, job.rejected) == (12001, 12000, 1)
        assert job.report and job.report.open("rb").read().decode("utf-8-sig").count("\n") == 2
        assert Contact.objects.filter(recipient_list=lst).count() == 12000
        assert ImportJob.objects.get(pk=job.pk).finished_at is not None
    finally:
        platform.stop()
