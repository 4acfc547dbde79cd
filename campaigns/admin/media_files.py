"""MMS media in the admin: the stored file served to people who may see the campaign, a
thumbnail beside each image, and no edits once the campaign has started sending.

Uploads live under MEDIA_ROOT, which nothing served: the "Currently: mms/…" link was a
404. ``/media/<name>`` now answers for a stored CampaignMedia file only, to a logged-in
user allowed to view campaigns, with the type proven at upload and ``nosniff``; any other
name is a 404 (no directory listing, no path outside the media folder).
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html

from campaigns.forms import CampaignMediaForm, CampaignMediaFormSet
from campaigns.models import Campaign, CampaignMedia, Channel
from campaigns.services import campaign_edits


def media_file_view(request: HttpRequest, name: str) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), login_url=reverse("admin:login"))
    if not (request.user.is_staff and request.user.has_perm("campaigns.view_campaign")):
        raise Http404("No such file.")
    media = CampaignMedia.objects.filter(file=name).first()
    if media is None or not media.file.storage.exists(media.file.name):
        raise Http404("No such file.")
    response = FileResponse(media.file.open("rb"), content_type=media.content_type or "application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=300"
    return response


class CampaignMediaInline(admin.TabularInline):
    model = CampaignMedia
    form = CampaignMediaForm
    formset = CampaignMediaFormSet
    fields = ("thumbnail", "file", "content_type", "size", "position")
    readonly_fields = ("thumbnail", "content_type", "size")  # read from the file's bytes
    verbose_name, verbose_name_plural = "media file", "Media (pictures, audio, video)"
    extra = 0

    @admin.display(description="Preview")
    def thumbnail(self, obj: CampaignMedia) -> str:
        if not obj.pk or not obj.file:
            return "—"
        if obj.content_type.startswith("image/"):
            return format_html(
                '<a href="{}"><img class="cd-thumb" src="{}" alt="{}" width="96"></a>',
                obj.file.url,
                obj.file.url,
                obj.file.name,
            )
        return format_html('<a href="{}">{}</a>', obj.file.url, obj.content_type)

    # A started or finished campaign's media went out as they are: nothing to change.
    def _locked(self, obj: Campaign | None) -> bool:
        return obj is not None and obj.pk is not None and not campaign_edits.is_editable(obj)

    def has_add_permission(self, request: HttpRequest, obj: Campaign | None = None) -> bool:
        return not self._locked(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Campaign | None = None) -> bool:
        return not self._locked(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Campaign | None = None) -> bool:
        return not self._locked(obj) and super().has_delete_permission(request, obj)


def preview_media(campaign_id: str, channel: str) -> list[dict[str, str]]:
    """The builder preview's pictures: the stored media of the campaign being edited (MMS)."""
    if channel != Channel.MMS or not campaign_id.isdigit():
        return []
    media = CampaignMedia.objects.filter(campaign_id=int(campaign_id)).order_by("position", "id")[:10]
    return [
        {"url": m.file.url, "content_type": m.content_type, "name": m.file.name.rsplit("/", 1)[-1]}
        for m in media
        if m.file
    ]
