"""Opt-outs: list, add, remove, import and export, each through the opt-out service."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from campaigns.admin.base import GuardedModelAdmin
from campaigns.admin.csv_export import stream_csv
from campaigns.errors import ApplicationError
from campaigns.forms import OptOutForm, OptOutImportForm
from campaigns.models import OptOut
from campaigns.selectors_reports import optout_export_rows
from campaigns.services.optouts import add_optout, import_optouts_csv, remove_optout


@admin.register(OptOut)
class OptOutAdmin(GuardedModelAdmin):
    form = OptOutForm
    list_display = ("phone", "scope", "source", "note", "created_at")
    list_filter = ("source", "account")
    search_fields = ("phone",)
    raw_id_fields = ("source_message",)
    list_select_related = ("account",)
    change_list_template = "admin/campaigns/optout/optout_change_list.html"

    @admin.display(description="Blocks", ordering="account")
    def scope(self, obj: OptOut) -> str:
        return obj.account.name if obj.account_id else "All accounts"

    def save_model(self, request: HttpRequest, obj: OptOut, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        optout, created = add_optout(phone=obj.phone, account=obj.account, source=obj.source, note=obj.note)
        obj.pk = optout.pk
        if not created:
            messages.info(request, f"{optout.phone} was already opted out.")

    def delete_model(self, request: HttpRequest, obj: OptOut) -> None:
        remove_optout(optout=obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for optout in queryset:
            remove_optout(optout=optout)

    def get_urls(self) -> list:
        def url(route: str, view: Any, name: str) -> Any:
            return path(route, self.admin_site.admin_view(view), name=f"campaigns_optout_{name}")

        return [
            url("import/", self.import_view, "import"),
            url("export/", self.export_view, "export"),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = OptOutImportForm(request.POST or None, request.FILES or None)
        result = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                with data["file"].open("rb") as stream:
                    result = import_optouts_csv(stream=stream, account=data["account"], note=data["note"])
            except ApplicationError as exc:
                form.add_error("file", exc.message)
            else:
                messages.success(
                    request,
                    f"{result.added:,} opted out, {result.already:,} already were, {result.rejected:,} rows refused.",
                )
                if not result.rejected:
                    return redirect("admin:campaigns_optout_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": "Import opt-outs",
            "opts": self.opts,
            "form": form,
            "result": result,
        }
        return TemplateResponse(request, "admin/campaigns/optout/import.html", context)

    def export_view(self, request: HttpRequest) -> StreamingHttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        header = ("phone", "account", "source", "note", "created_at")
        return stream_csv(header, optout_export_rows(), f"opt-outs-{timezone.now():%Y%m%d-%H%M}.csv")
