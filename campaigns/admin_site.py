"""The admin site: a landing page for marketers, and the platform's internals in a section
of their own that only operators see.

- The index opens with what a marketer asks first (``campaigns.selectors_landing``):
  campaigns sending and scheduled with their progress, today's volume, the latest failures.
- Batches in flight, message parts, receipts and bind health are the platform's working
  state: operators (and superusers) find them under "Operations (internal)"; marketers and
  viewers do not see them in the menu.
- No "View site" link: the admin is the product's web UI, there is no other site to view.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.template.response import TemplateResponse

INTERNAL_MODELS = {
    ("campaigns", "batchinflight"),
    ("campaigns", "messagepart"),
    ("campaigns", "receipt"),
    ("smpp_transport", "bindstatus"),
}
INTERNAL_APP_LABEL = "operations"


class LoginForm(AdminAuthenticationForm):
    """Says why a known user with the right password may not log in, instead of the
    generic "enter the correct username and password" (that only for wrong credentials)."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "not_staff": "This user has no role yet, so may not use the admin: ask an operator to give it one "
        "(operator, marketer or viewer).",
    }

    def confirm_login_allowed(self, user: Any) -> None:
        if user.is_active and not user.is_staff:
            raise ValidationError(self.error_messages["not_staff"], code="not_staff")
        super().confirm_login_allowed(user)


class CampaignsAdminSite(admin.AdminSite):
    login_form = LoginForm
    site_header = "Campaign dispatch"
    site_title = "Campaign dispatch"
    index_title = "Home"
    site_url = None  # no "View site": nothing lives outside the admin and the API
    index_template = "admin/campaigns_index.html"

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        from campaigns.roles import is_operator

        apps = super().get_app_list(request, app_label)
        operator = is_operator(request.user)
        internal: list[dict[str, Any]] = []
        for app in apps:
            keep = []
            for model in app["models"]:
                if (app["app_label"], model["object_name"].lower()) in INTERNAL_MODELS:
                    if operator:
                        internal.append(model)
                else:
                    keep.append(model)
            app["models"] = keep
        apps = [app for app in apps if app["models"]]
        if internal and app_label is None:
            apps.append(
                {
                    "name": "Operations (internal)",
                    "app_label": INTERNAL_APP_LABEL,
                    "app_url": "",
                    "has_module_perms": True,
                    "models": internal,
                }
            )
        return apps

    def index(self, request: HttpRequest, extra_context: dict | None = None) -> TemplateResponse:
        from campaigns import selectors_landing

        if not request.user.has_perm("campaigns.view_campaign"):
            return super().index(request, extra_context)
        landing = {
            "active": selectors_landing.active_campaigns(),
            "approvals": selectors_landing.waiting_for_approval(),
            "volume": selectors_landing.todays_volume(),
            "failures": selectors_landing.recent_failures(),
        }
        return super().index(request, {"landing": landing, **(extra_context or {})})
