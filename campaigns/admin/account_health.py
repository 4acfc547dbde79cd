"""The account page's health panel and its "Test connection" buttons (operators only).

Bind health (from the bind processes' heartbeats, in words and local time) and MM4 health
sit side by side; each "Test connection" button logs in once to the provider through
``transport_api.test_connection`` (the transports register the probes: the domain imports
none of them) and shows the provider's answer as a message on the page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from campaigns.admin.base import object_or_404
from campaigns.errors import ApplicationError
from campaigns.models import Account
from campaigns.selectors_accounts import mm4_health
from campaigns.services import transport_api

HEALTH_FIELD = "connection_health"
CHANNELS = {"sms": "SMPP", "mms": "MM4"}


class AccountHealthMixin:
    """Mixed into AccountAdmin: a "Health" fieldset and the test-connection endpoint."""

    def get_fieldsets(self, request: HttpRequest, obj: Account | None = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)  # type: ignore[misc]
        if obj is not None and self.has_change_permission(request, obj):  # type: ignore[attr-defined]
            fieldsets = [*fieldsets, ("Health", {"fields": (HEALTH_FIELD,)})]
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Account | None = None) -> Any:
        fields = super().get_readonly_fields(request, obj)  # type: ignore[misc]
        return (*fields, HEALTH_FIELD) if obj is not None else fields

    def connection_health(self, obj: Account) -> str:
        binds = transport_api.connection_health(system_id=obj.system_id, channel="sms") or [
            "No bind process has reported for this account (are the bind workers running?)."
        ]
        buttons = format_html_join(
            " ",
            '<button type="submit" class="button cd-test-connection" formmethod="post" formaction="{}" '
            'formnovalidate data-channel="{}">Test {} connection</button>',
            (
                (reverse("admin:campaigns_account_test_connection", args=[obj.pk, c]), c, label)
                for c, label in CHANNELS.items()
            ),
        )
        return format_html(
            '<div class="cd-health-panel" id="cd-account-health"><h4>Bind health (SMPP)</h4><ul>{}</ul>'
            '<h4>MM4 health (MMS)</h4><ul>{}</ul><p>{} <span class="cd-quiet">Logs in once with the saved '
            "settings and reports the provider's answer; sends nothing.</span></p></div>",
            format_html_join("", "<li>{}</li>", ((line,) for line in binds)),
            format_html_join("", "<li>{}</li>", ((line,) for line in mm4_health(obj))),
            buttons,
        )

    connection_health.short_description = "Connections"  # type: ignore[attr-defined]

    def get_urls(self) -> list:
        view = self.admin_site.admin_view(self.test_connection_view)  # type: ignore[attr-defined]
        route = path("<path:object_id>/test-connection/<slug:channel>/", view, name="campaigns_account_test_connection")
        return [route, *super().get_urls()]  # type: ignore[misc]

    def test_connection_view(self, request: HttpRequest, object_id: str, channel: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        account = object_or_404(Account.objects.all(), object_id)
        if not self.has_change_permission(request, account):  # type: ignore[attr-defined]
            raise PermissionDenied
        if channel not in CHANNELS:
            messages.error(request, f"Unknown channel {channel[:10]!r}: test sms or mms.")
            return redirect("admin:campaigns_account_change", account.pk)
        try:
            check = transport_api.test_connection(system_id=account.system_id, channel=channel)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            (messages.success if check.ok else messages.error)(request, f"{CHANNELS[channel]}: {check.summary}")
        return redirect("admin:campaigns_account_change", account.pk)
