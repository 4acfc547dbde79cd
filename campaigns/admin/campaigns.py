"""The campaign builder: edit, preview, send, watch and report, on the campaign's own page.

Writes go through campaigns.services.campaign_actions (buttons in actions.py); reads through
campaigns.selectors_reports. The JSON endpoints under /admin/campaigns/campaign/ feed the
page's small script: the live preview, and the progress polls of the list and the page.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html

from campaigns.admin.actions import ACTIONS, may_use, test_send_choices, visible_actions
from campaigns.admin.approvals import approval_context, approval_view, note_withdrawal
from campaigns.admin.base import GuardedModelAdmin
from campaigns.admin.kinds import KindFilter
from campaigns.admin.media_files import CampaignMediaInline
from campaigns.admin.preview import preview_of_form
from campaigns.admin.reports import export_view, report_urls, report_view, timeline_view
from campaigns.errors import ApplicationError
from campaigns.forms import CampaignForm
from campaigns.models import Campaign
from campaigns.selectors_reports import Progress, campaign_progress, campaigns_progress
from campaigns.services import campaign_actions, campaign_edits
from campaigns.statuses import C
from campaigns.templatetags.campaign_admin import progress_bars, status_badge

LIVE = (C.SCHEDULED, C.RUNNING, C.PAUSED)
DETAILS = ("is_test", "resend_of", "created_by", "created_at", "started_at", "completed_at", "materialised_at")
EDIT_FIELDSETS = (
    (None, {"fields": ("name", ("channel", "account", "route"), "sender")}),
    ("Message", {"fields": ("body", "smart_encoding", "track_links", "preview_panel", "mms_subject")}),
    ("Recipients", {"fields": ("recipient_lists",)}),
    (
        "Schedule",
        {
            "fields": (
                ("scheduled_local", "timezone"),
                "send_rate",
                ("quiet_hours_start", "quiet_hours_end"),
                "validity_period",
            )
        },
    ),
)
# Paused after it started: its messages exist, so channel, account and recipients are fixed
# (see campaigns.services.campaign_edits); the rest applies to the messages not yet sent.
STARTED_FIELDSETS = (
    ("Progress", {"fields": ("live_progress",)}),
    (None, {"fields": ("edit_scope", "name", ("channel", "account", "route"), "sender")}),
    ("Message", {"fields": ("body", "smart_encoding", "track_links", "preview_panel", "mms_subject")}),
    ("Recipients", {"fields": ("recipient_lists",)}),
    (
        "Schedule",
        {
            "fields": (
                "schedule_display",
                "timezone",
                "send_rate",
                ("quiet_hours_start", "quiet_hours_end"),
                "validity_period",
            )
        },
    ),
    ("Details", {"fields": DETAILS, "classes": ("collapse",)}),
)
STARTED_READONLY = (
    "live_progress",
    "edit_scope",
    "preview_panel",
    "channel",
    "account",
    "route",
    "recipient_lists",
    "smart_encoding",
    "schedule_display",
    "scheduled_local",
    *DETAILS,
)
LOCKED_FIELDSETS = (
    ("Progress", {"fields": ("live_progress",)}),
    (None, {"fields": ("name", "status", ("channel", "account", "route"), "sender")}),
    ("Message", {"fields": ("body", "smart_encoding", "track_links", "mms_subject")}),
    ("Recipients", {"fields": ("recipient_lists",)}),
    (
        "Schedule",
        {"fields": ("schedule_display", "send_rate", ("quiet_hours_start", "quiet_hours_end"), "validity_period")},
    ),
    ("Details", {"fields": DETAILS, "classes": ("collapse",)}),
)


class CampaignChangeList(ChangeList):
    """Progress for the campaigns on the page only, in one GROUP BY."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        progress = campaigns_progress({obj.id: obj.status for obj in self.result_list})
        for obj in self.result_list:
            obj.progress = progress[obj.id]


@admin.register(Campaign)
class CampaignAdmin(GuardedModelAdmin):
    form = CampaignForm
    list_display = ("name", "status_label", "progress_column", "account", "channel", "schedule_display", "started_at")
    list_filter = (KindFilter, "status", "approval_state", "channel", "account", "is_test")  # kinds.py: single sends
    search_fields = ("name",)
    list_select_related = ("account",)
    inlines = [CampaignMediaInline]
    change_form_template = "admin/campaigns/campaign/builder_change_form.html"
    change_list_template = "admin/campaigns/campaign/campaign_change_list.html"

    # --- Pages --------------------------------------------------------------------------

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return CampaignChangeList

    def has_change_permission(self, request: HttpRequest, obj: Campaign | None = None) -> bool:
        """A running or finished campaign is view-only, whoever asks: a form opened while it
        was paused and posted after *resume* is refused (403), not saved into a live send."""
        return super().has_change_permission(request, obj) and (obj is None or campaign_edits.is_editable(obj))

    def _editable(self, request: HttpRequest, obj: Campaign | None) -> bool:
        return obj is None or self.has_change_permission(request, obj)

    def get_fieldsets(self, request: HttpRequest, obj: Campaign | None = None) -> Any:
        if self._editable(request, obj):
            fieldsets = STARTED_FIELDSETS if obj is not None and campaign_edits.has_started(obj) else EDIT_FIELDSETS
        else:
            fieldsets = LOCKED_FIELDSETS
        if obj is not None and obj.channel != "mms":
            drop = {"mms_subject"}
            return [(name, {**o, "fields": [f for f in o["fields"] if f not in drop]}) for name, o in fieldsets]
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Campaign | None = None) -> Any:
        if self._editable(request, obj):
            return STARTED_READONLY if obj is not None and campaign_edits.has_started(obj) else ("preview_panel",)
        return [
            f
            for _, options in LOCKED_FIELDSETS
            for row in options["fields"]
            for f in (row if isinstance(row, tuple) else (row,))
        ]

    def get_inlines(self, request: HttpRequest, obj: Campaign | None) -> Any:
        return self.inlines if obj is None or obj.channel == "mms" else []

    def save_model(self, request: HttpRequest, obj: Campaign, form: Any, change: bool) -> None:
        if not change and obj.created_by_id is None:
            obj.created_by = request.user
        changed = {"scheduled_at" if f == "scheduled_local" else f for f in form.changed_data}
        if change:
            campaign_edits.check_edit(campaign=obj, changed=changed)
        before = obj.approval_state
        super().save_model(request, obj, form, change)
        touched = campaign_edits.apply_edit(campaign=obj, changed=changed, actor=request.user) if change else 0
        note_withdrawal(request, before, obj)
        if touched:
            messages.info(
                request,
                f"The change applies to the {touched:,} messages not yet sent; those already sent are unchanged.",
            )

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        if change and formset.has_changed():  # MMS media: part of what an approver approved
            campaign_edits.apply_edit(campaign=form.instance, changed={"media"}, actor=request.user)

    def response_add(self, request: HttpRequest, obj: Campaign, post_url_continue: str | None = None) -> HttpResponse:
        if "_schedule" in request.POST:
            return self._schedule_after_save(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request: HttpRequest, obj: Campaign) -> HttpResponse:
        if "_schedule" in request.POST:
            return self._schedule_after_save(request, obj)
        return super().response_change(request, obj)

    def _schedule_after_save(self, request: HttpRequest, obj: Campaign) -> HttpResponse:
        """*Save and schedule*: the form (with the time and zone just typed) is saved; then the
        same service as the API's schedule arms it. A refusal leaves a saved draft, time kept."""
        spec = ACTIONS["schedule"]
        page = redirect("admin:campaigns_campaign_change", obj.pk)
        if not may_use(request, spec, can_add=self.has_add_permission(request)):
            messages.error(request, "Saved as a draft. You may not schedule campaigns.")
            return page
        try:
            campaign_actions.schedule(campaign=obj, at=obj.scheduled_at, actor=request.user)
        except ApplicationError as exc:
            messages.error(request, f"Saved, but not scheduled: {exc.message}")
            return page
        obj.refresh_from_db()
        self.log_change(request, obj, "Scheduled (saved and scheduled)")
        messages.success(request, f"Saved and scheduled for {self.schedule_display(obj)}.")
        return page

    def render_change_form(
        self, request: HttpRequest, context: dict, *args: Any, obj: Campaign | None = None, **kwargs: Any
    ) -> HttpResponse:
        can_add = self.has_add_permission(request)
        editable = self._editable(request, obj)
        if obj is not None and not editable:
            # Nothing on a running or finished campaign's page is editable: no save buttons.
            context.update(show_save=False, show_save_and_continue=False, show_save_and_add_another=False)
        context.update(
            campaign_actions=visible_actions(request, obj, can_add=can_add) if obj else [],
            report_url=reverse("admin:campaigns_campaign_report", args=[obj.pk]) if obj else None,
            preview_url=reverse("admin:campaigns_campaign_preview"),
            # "Save and schedule" submits the main form: what was just typed is saved first.
            show_save_and_schedule=editable
            and (obj is None or obj.status == C.DRAFT)
            and may_use(request, ACTIONS["schedule"], can_add=can_add),
            test_send_contacts=test_send_choices(obj) if obj else [],
            **(approval_context(request, obj) if obj else {}),
        )
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)

    # --- Columns and read-only fields -----------------------------------------------------

    @admin.display(description="Status", ordering="status")
    def status_label(self, obj: Campaign) -> str:
        return status_badge(obj.status, obj.get_status_display())

    @admin.display(description="Progress")
    def progress_column(self, obj: Campaign) -> str:
        progress = getattr(obj, "progress", None) or Progress()
        if progress.total == 0:
            return "—"
        return progress_bars(progress, obj.pk, live=obj.status in LIVE)

    @admin.display(description="Send at")
    def schedule_display(self, obj: Campaign) -> str:
        if obj.scheduled_at is None:
            return "—"
        from zoneinfo import ZoneInfo

        local = obj.scheduled_at.astimezone(ZoneInfo(obj.timezone or "UTC"))
        return f"{local:%Y-%m-%d %H:%M} {obj.timezone}"

    @admin.display(description="Preview")
    def preview_panel(self, obj: Campaign | None) -> str:
        # Fields shown read-only (a started campaign's channel, account and lists) are not
        # form inputs: the page's script reads them from here for the preview.
        fixed = {"campaign": obj.pk} if obj is not None and obj.pk else {}  # its MMS media in the preview
        if obj is not None and obj.pk and campaign_edits.has_started(obj):
            lists = list(obj.recipient_lists.values_list("id", flat=True))
            fixed |= {"channel": obj.channel, "account": obj.account_id, "recipient_lists": lists}
            fixed["smart_encoding"] = "1" if obj.smart_encoding else "0"
        return format_html(
            '<div id="cd-preview" class="cd-preview" aria-live="polite" data-fixed="{}">'
            '<p class="cd-quiet">{}</p></div>',
            json.dumps(fixed),
            "Type a message and choose lists to see what recipients will receive.",
        )

    @admin.display(description="While paused")
    def edit_scope(self, obj: Campaign) -> str:
        unsent = campaign_edits.unsent_messages(obj).count()
        others = obj.messages.count() - unsent
        kept = (
            f"the {others:,} already sent (or suppressed) keep what they had" if others else "nothing has been sent yet"
        )
        return format_html(
            '<p class="cd-edit-scope" id="cd-edit-scope">Changes to the text, sender, send rate, quiet hours and '
            "validity apply to the <strong>{}</strong> messages not yet sent; {}. The channel, account, "
            "smart encoding and recipients are fixed once sending has started (duplicate the campaign to "
            "change them). "
            "Press <em>Resume</em> to continue sending.</p>",
            f"{unsent:,}",
            kept,
        )

    @admin.display(description="Progress")
    def live_progress(self, obj: Campaign) -> str:
        url = reverse("admin:campaigns_campaign_progress", args=[obj.pk])
        return format_html(
            '<div data-progress-url="{}" data-live="{}">{}</div>',
            url,
            "1" if obj.status in LIVE else "0",
            progress_bars(campaign_progress(obj), obj.pk, live=obj.status in LIVE),
        )

    # --- Endpoints --------------------------------------------------------------------------

    def get_urls(self) -> list:
        def url(route: str, view: Any, name: str) -> Any:
            return path(route, self.admin_site.admin_view(view), name=f"campaigns_campaign_{name}")

        return [
            url("preview/", self.preview_view, "preview"),
            url("progress/", self.progress_list_view, "progress_list"),
            url("<path:object_id>/progress/", self.progress_view, "progress"),
            url("<path:object_id>/report/", self.report_view, "report"),
            url("<path:object_id>/report/timeline.svg", self.timeline_view, "timeline"),
            url("<path:object_id>/export/", self.export_view, "export"),
            url("<path:object_id>/action/<slug:action>/", self.action_view, "action"),
            url("<path:object_id>/approval/<slug:decision>/", partial(approval_view, self), "approval"),
            *report_urls(self, url),
        ] + super().get_urls()

    def _campaign(self, request: HttpRequest, object_id: str) -> Campaign:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        campaign = self.get_object(request, object_id)
        if campaign is None:
            raise Http404("No such campaign.")
        return campaign

    def preview_view(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        try:
            data = json.loads(request.body or b"{}") if request.content_type == "application/json" else request.POST
        except ValueError:
            return JsonResponse({"error": "The body is not JSON."}, status=400)
        if not hasattr(data, "get"):
            return JsonResponse({"error": "Send an object."}, status=400)
        return JsonResponse(preview_of_form(data))

    def progress_view(self, request: HttpRequest, object_id: str) -> JsonResponse:
        campaign = self._campaign(request, object_id)
        progress = campaign_progress(campaign)
        return JsonResponse(
            {
                "id": campaign.pk,
                "status": campaign.status,
                "status_display": campaign.get_status_display(),
                "live": campaign.status in LIVE,
                **progress.as_dict(),
            }
        )

    def progress_list_view(self, request: HttpRequest) -> JsonResponse:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        ids = [int(i) for i in request.GET.getlist("id") if i.isdigit()][:200]
        statuses = dict(self.get_queryset(request).filter(id__in=ids).values_list("id", "status"))
        progress = campaigns_progress(statuses)
        return JsonResponse(
            {str(i): {"status": s, "live": s in LIVE, **progress[i].as_dict()} for i, s in statuses.items()}
        )

    def report_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        campaign = self._campaign(request, object_id)
        return report_view(request, campaign, {**self.admin_site.each_context(request), "opts": self.opts})

    def timeline_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return timeline_view(request, self._campaign(request, object_id))

    def export_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return export_view(self._campaign(request, object_id))

    def action_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        campaign = self._campaign(request, object_id)
        spec = ACTIONS.get(action)
        if spec is None:
            raise Http404("No such action.")
        if not may_use(request, spec, can_add=self.has_add_permission(request)):
            raise PermissionDenied
        try:
            result = spec.run(campaign, request)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("admin:campaigns_campaign_change", campaign.pk)
        self.log_change(request, campaign, f"{spec.label} (from the campaign page)")
        if spec.done:
            messages.success(request, spec.done)
        return redirect("admin:campaigns_campaign_change", result.pk)
