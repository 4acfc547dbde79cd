"""CSV import in the admin: upload → column mapping → background job with live progress →
row report. The views are thin: the work is in campaigns.services.contacts_import."""

from __future__ import annotations

import csv
import io
from itertools import islice
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from campaigns.admin.base import GuardedModelAdmin, object_or_404
from campaigns.errors import ApplicationError
from campaigns.forms import CsvUploadForm, ImportMappingForm
from campaigns.models import ImportJob, ImportJobStatus, RecipientList
from campaigns.services.contacts_import.jobs import create_import_job, preview_import, start_import_job

SHOWN_REPORT_ROWS = 50


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(f"campaigns.{perm}"):
        raise PermissionDenied


def _context(request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
    return {**admin.site.each_context(request), "title": title, "opts": ImportJob._meta, **extra}


def upload_view(request: HttpRequest, object_id: str) -> HttpResponse:
    """Step 1: the file. Stored as a pending job; nothing is imported before the mapping."""
    _require(request, "add_importjob")
    recipient_list = object_or_404(RecipientList.objects.all(), object_id)
    form = CsvUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = create_import_job(
                recipient_list=recipient_list, upload=form.cleaned_data["file"], created_by=request.user
            )
        except ApplicationError as exc:
            form.add_error("file", exc.message)
        else:
            return redirect("admin:campaigns_importjob_mapping", job.pk)
    context = _context(request, f"Import contacts into “{recipient_list}”", form=form, recipient_list=recipient_list)
    return TemplateResponse(request, "admin/campaigns/importjob/upload.html", context)


def mapping_view(request: HttpRequest, object_id: str) -> HttpResponse:
    """Step 2: which column is what, with the first rows of the file to look at."""
    _require(request, "add_importjob")
    job = object_or_404(ImportJob.objects.select_related("recipient_list"), object_id)
    if job.mapping:
        return redirect("admin:campaigns_importjob_change", job.pk)
    try:
        preview = preview_import(job=job)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("admin:campaigns_recipientlist_import", job.recipient_list_id)
    guess = preview.guess
    initial = {**guess, "attributes": list(guess["attributes"].values())}
    form = ImportMappingForm(request.POST or None, header=preview.header, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            start_import_job(job=job, mapping=form.mapping())
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("admin:campaigns_importjob_change", job.pk)
    context = _context(
        request,
        f"Map the columns of {job.original_name or 'the file'}",
        form=form,
        job=job,
        preview=preview,
        recipient_list=job.recipient_list,
    )
    return TemplateResponse(request, "admin/campaigns/importjob/mapping.html", context)


def _job_state(job: ImportJob) -> dict[str, Any]:
    return {
        "status": job.status,
        "status_display": job.get_status_display(),
        "rows": job.rows_total,
        "imported": job.imported,
        "duplicates": job.duplicates,
        "rejected": job.rejected,
        "error": job.error,
        "finished": job.status in (ImportJobStatus.DONE, ImportJobStatus.FAILED),
        "report_url": reverse("admin:campaigns_importjob_report", args=[job.pk]) if job.report else None,
    }


def progress_view(request: HttpRequest, object_id: str) -> JsonResponse:
    _require(request, "view_importjob")
    return JsonResponse(_job_state(object_or_404(ImportJob.objects.all(), object_id)))


def report_view(request: HttpRequest, object_id: str) -> FileResponse:
    """The rows not imported, with the reason per row, as the CSV the worker wrote."""
    _require(request, "view_importjob")
    job = object_or_404(ImportJob.objects.all(), object_id)
    if not job.report:
        raise Http404("This import has no row report.")
    name = f"{(job.original_name or 'import').rsplit('.', 1)[0]}-rows-not-imported.csv"
    return FileResponse(job.report.open("rb"), as_attachment=True, filename=name, content_type="text/csv")


def _report_head(job: ImportJob) -> tuple[list[str], list[list[str]]]:
    """The report's header and first rows, read without loading the file."""
    if not job.report:
        return [], []
    with job.report.open("rb") as raw:
        reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
        header = next(reader, [])
        return header, list(islice(reader, SHOWN_REPORT_ROWS))


@admin.register(ImportJob)
class ImportJobAdmin(GuardedModelAdmin):
    list_display = (
        "id",
        "recipient_list",
        "original_name",
        "status",
        "rows_total",
        "imported",
        "duplicates",
        "rejected",
        "created_at",
    )
    list_filter = ("status",)
    list_select_related = ("recipient_list",)
    change_form_template = "admin/campaigns/importjob/status.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # jobs start from a recipient list's "Import CSV"

    def has_change_permission(self, request: HttpRequest, obj: ImportJob | None = None) -> bool:
        return False  # a job is a record: its page shows progress and the report

    def get_urls(self) -> list:
        def url(route: str, view: Any, name: str) -> Any:
            return path(route, self.admin_site.admin_view(view), name=f"campaigns_importjob_{name}")

        return [
            url("<path:object_id>/mapping/", mapping_view, "mapping"),
            url("<path:object_id>/progress/", progress_view, "progress"),
            url("<path:object_id>/report/", report_view, "report"),
        ] + super().get_urls()

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None):
        job = self.get_object(request, object_id)
        if job is not None:
            header, rows = _report_head(job)
            extra_context = {
                **(extra_context or {}),
                "job": job,
                "state": _job_state(job),
                "report_header": header,
                "report_rows": rows,
                "title": f"Import into “{job.recipient_list}”",
                "subtitle": None,
            }
        return super().change_view(request, object_id, form_url, extra_context)
