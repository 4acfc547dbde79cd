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
    monkeypatch.setattr(
        import_contacts_task, "delay", lambda job_id: import_contacts_task.apply_async(args=[job_id], queue=queue)
    )
    try:
        platform.start_dispatch_worker()
        lst = RecipientListFactory()
        rows = "".join(f"+4479111{i:05d},N{i}\n" for i in range(12000)) + "+4479,bad\n"
        # Bounded per line and per contact in the worker too (issue 15): refused alone.
        rows += f"+447922200001,{'x' * 100_000}\n+447922200002,{'N' * 101}\n+447922200003,Last\n"
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
        assert (job.rows_total, job.imported, job.rejected) == (12004, 12001, 3)
        report = job.report.open("rb").read().decode("utf-8-sig")
        assert report.count("\n") == 4 and "longer than 65536 characters" in report
        assert "the first name is longer than 100 characters" in report
        assert Contact.objects.filter(recipient_list=lst).count() == 12001
        assert ImportJob.objects.get(pk=job.pk).finished_at is not None
    finally:
        platform.stop()
