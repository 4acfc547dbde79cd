"""CSV import through the admin: upload, column mapping, the job and its row report."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns.models import Contact, ImportJob, ImportJobStatus
from campaigns.services.contacts_import.run import run_import_job
from config.celery import app
from tests.factories import RecipientListFactory

pytestmark = pytest.mark.django_db

CSV = (
    b"Mobile,First name,Last name,Town\n"
    b"+447911100001,Ann,Lee,Leeds\n"
    b"+4479,Short,x,York\n"
    b",Nobody,x,Hull\n"
    b"+447911100002,Bob,Ray,Bath\n"
    b"+447911100001,Ann again,Lee,Leeds\n"
)


@pytest.fixture
def eager():
    # The Django settings name wins over Celery's own (namespace "CELERY"), so set that one.
    app.conf.update(CELERY_TASK_ALWAYS_EAGER=True)
    yield
    app.conf.update(CELERY_TASK_ALWAYS_EAGER=False)


def _upload(client, lst, data: bytes = CSV):
    url = reverse("admin:campaigns_recipientlist_import", args=[lst.pk])
    return client.post(url, {"file": SimpleUploadedFile("contacts.csv", data, content_type="text/csv")})


def test_upload_map_import_and_row_report(marketer_client, eager, django_capture_on_commit_callbacks) -> None:
    lst = RecipientListFactory()
    response = _upload(marketer_client, lst)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("admin:campaigns_importjob_mapping", args=[job.pk])
    page = marketer_client.get(response.url).content.decode()
    assert "Ann" in page and "Leeds" in page  # the first rows are shown
    assert 'value="Mobile" selected' in page  # the phone column is guessed
    with django_capture_on_commit_callbacks(execute=True):
        response = marketer_client.post(
            reverse("admin:campaigns_importjob_mapping", args=[job.pk]),
            {"phone": "Mobile", "first_name": "First name", "last_name": "Last name", "attributes": ["Town"]},
        )
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportJobStatus.DONE
    assert (job.rows_total, job.imported, job.duplicates, job.rejected) == (5, 2, 1, 2)
    assert Contact.objects.get(recipient_list=lst, phone="+447911100001").attributes == {"town": "Leeds"}
    page = marketer_client.get(reverse("admin:campaigns_importjob_change", args=[job.pk])).content.decode()
    assert "Rows not imported" in page and "missing phone" in page and "invalid number: " in page
    assert "duplicate of row 2 in this file" in page
    report = marketer_client.get(reverse("admin:campaigns_importjob_report", args=[job.pk]))
    text = b"".join(report.streaming_content).decode("utf-8-sig")
    assert text.splitlines()[0] == "row,reason,Mobile,First name,Last name,Town"
    assert len(text.splitlines()) == 4
    state = marketer_client.get(reverse("admin:campaigns_importjob_progress", args=[job.pk])).json()
    assert state["finished"] and state["imported"] == 2 and state["report_url"]


def test_unknown_column_in_mapping_is_refused_before_any_work(marketer_client) -> None:
    lst = RecipientListFactory()
    _upload(marketer_client, lst)
    job = ImportJob.objects.get()
    response = marketer_client.post(reverse("admin:campaigns_importjob_mapping", args=[job.pk]), {"phone": "Nope"})
    assert response.status_code == 200
    job.refresh_from_db()
    assert job.mapping == {} and job.status == ImportJobStatus.PENDING


def test_an_empty_file_is_refused_at_upload(marketer_client) -> None:
    response = _upload(marketer_client, RecipientListFactory(), b"")
    assert response.status_code == 200 and ImportJob.objects.count() == 0


def test_a_job_whose_file_breaks_fails_with_the_reason(marketer_client) -> None:
    lst = RecipientListFactory()
    _upload(marketer_client, lst)
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(mapping={"phone": "Gone"})
    job.refresh_from_db()
    assert run_import_job(job=job) is None
    job.refresh_from_db()
    assert job.status == ImportJobStatus.FAILED and "no column 'Gone'" in job.error
    assert run_import_job(job=job) is None  # a finished job is left alone


def test_viewer_cannot_import(viewer_client) -> None:
    lst = RecipientListFactory()
    assert _upload(viewer_client, lst).status_code == 403


def test_list_page_counts_contacts_and_offers_import(marketer_client) -> None:
    lst = RecipientListFactory()
    Contact.objects.create(recipient_list=lst, phone="+447911100001")
    page = marketer_client.get(reverse("admin:campaigns_recipientlist_changelist")).content.decode()
    assert "Import CSV" in page
    page = marketer_client.get(reverse("admin:campaigns_recipientlist_change", args=[lst.pk])).content.decode()
    assert "1 contact<" in page and "Import CSV" in page
