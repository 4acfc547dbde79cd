"""Recipient lists and contacts. A list may hold a million contacts, so its page shows a
count and links instead of an inline, and imports run as background jobs (imports.py)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.db.models import Count
from django.http import HttpRequest
from django.urls import path, reverse
from django.utils.html import format_html

from campaigns.admin.base import GuardedModelAdmin
from campaigns.admin.imports import upload_view
from campaigns.forms import ContactForm
from campaigns.models import Contact, ImportJob, RecipientList


class RecipientListChangeList(ChangeList):
    """Counts contacts for the lists on the page only (one GROUP BY), not for every list."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        ids = [obj.id for obj in self.result_list]
        rows = Contact.objects.filter(recipient_list_id__in=ids).values_list("recipient_list_id").annotate(Count("id"))
        counts = dict(rows.order_by())
        for obj in self.result_list:
            obj.contact_total = counts.get(obj.id, 0)


@admin.register(RecipientList)
class RecipientListAdmin(GuardedModelAdmin):
    list_display = ("name", "contact_count", "created_at", "import_link")
    search_fields = ("name",)
    fields = ("name", "description", "contacts_summary")
    readonly_fields = ("contacts_summary",)
    change_form_template = "admin/campaigns/recipientlist/list_change_form.html"

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return RecipientListChangeList

    @admin.display(description="Contacts")
    def contact_count(self, obj: RecipientList) -> int:
        return getattr(obj, "contact_total", 0)

    @admin.display(description="")
    def import_link(self, obj: RecipientList) -> str:
        url = reverse("admin:campaigns_recipientlist_import", args=[obj.pk])
        return format_html('<a href="{}">Import CSV</a>', url)

    @admin.display(description="Contacts")
    def contacts_summary(self, obj: RecipientList) -> str:
        if not obj.pk:
            return "Save the list, then import a CSV file or add contacts."
        count = Contact.objects.filter(recipient_list=obj).count()
        url = reverse("admin:campaigns_contact_changelist") + f"?recipient_list__id__exact={obj.pk}"
        return format_html('<a href="{}">{} contact{}</a>', url, f"{count:,}", "" if count == 1 else "s")

    def get_urls(self) -> list:
        view = self.admin_site.admin_view(upload_view)
        return [path("<path:object_id>/import/", view, name="campaigns_recipientlist_import"), *super().get_urls()]

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None):
        recipient_list = self.get_object(request, unquote(object_id))  # None for an id that is not one
        jobs = ImportJob.objects.filter(recipient_list=recipient_list).order_by("-created_at")[:5]
        extra = {"recent_imports": jobs if recipient_list else [], **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context=extra)


@admin.register(Contact)
class ContactAdmin(GuardedModelAdmin):
    form = ContactForm
    list_display = ("phone", "first_name", "last_name", "recipient_list", "created_at")
    list_filter = ("recipient_list",)
    search_fields = ("phone", "first_name", "last_name")
    list_select_related = ("recipient_list",)
    show_full_result_count = False
