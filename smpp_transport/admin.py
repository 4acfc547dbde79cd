"""Bind health in the admin: every bind process with its state, SMSC, last error and counters."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from campaigns.admin.base import GuardedModelAdmin
from smpp_transport.health_words import describe, local_time
from smpp_transport.models import BindStatus


@admin.register(BindStatus)
class BindStatusAdmin(GuardedModelAdmin):
    list_display = (
        "name",
        "system_id",
        "mode",
        "health_badge",
        "smsc",
        "submits",
        "throttles",
        "reconnects",
        "last_error",
        "updated_at",
    )
    list_filter = ("system_id", "mode", "state")
    search_fields = ("name", "system_id", "last_error")
    # In words and local time (health_words.py), not the raw JSON counters and epochs.
    fields = (
        "name",
        "summary",
        "system_id",
        "mode",
        "host",
        "pid",
        "smsc",
        "state",
        "last_error",
        "counters",
        "started_at",
        "updated_at",
    )
    readonly_fields = fields

    class Media:
        css = {"all": ["smpp_transport/admin.css"]}

    @admin.display(description="State")
    def health_badge(self, obj: BindStatus) -> str:
        # A class per state (colours in smpp_transport/admin.css): no inline style for the CSP.
        known = obj.health if obj.health in ("bound", "gone", "auth_failed") else "other"
        return format_html('<b class="cd-health cd-health-{}">{}</b>', known, obj.health)

    @admin.display(description="Submits")
    def submits(self, obj: BindStatus) -> int:
        return obj.stats.get("submits", 0)

    @admin.display(description="Throttles")
    def throttles(self, obj: BindStatus) -> int:
        return obj.stats.get("throttles", 0)

    @admin.display(description="Reconnects")
    def reconnects(self, obj: BindStatus) -> int:
        return obj.stats.get("reconnects", 0)

    @admin.display(description="Health")
    def summary(self, obj: BindStatus) -> str:
        return describe(obj)

    @admin.display(description="Counters")
    def counters(self, obj: BindStatus) -> str:
        stats = obj.stats or {}
        rows = [
            (key.replace("_", " "), local_time(value) if key.endswith("_at") else value)
            for key, value in stats.items()
            if key != "responses"
        ]
        rows += [(f"answer {name}", count) for name, count in (stats.get("responses") or {}).items()]
        return format_html_join(mark_safe("<br>"), "{}: {}", rows) or "—"

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the bind processes own their rows; a stale one is marked "gone"

    def has_change_permission(self, request, obj=None) -> bool:
        return False
