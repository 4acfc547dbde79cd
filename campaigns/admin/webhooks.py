"""Webhook endpoints (secret write-only, shown once when made or rotated) and their delivery log."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from campaigns.admin.base import GuardedModelAdmin
from campaigns.errors import ApplicationError
from campaigns.forms import SecretField
from campaigns.models import WebhookDelivery, WebhookEndpoint, WebhookEventType
from campaigns.services import webhooks
from campaigns.services.webhook_delivery import redeliver


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=1000, assume_scheme="https", help_text="Where events are POSTed.")
    secret = SecretField(help_text="Write-only. Blank: a new endpoint gets a generated secret, shown once.")
    events = forms.MultipleChoiceField(choices=WebhookEventType.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = WebhookEndpoint
        fields = ("url", "description", "events", "campaign", "api_sends_only", "active", "secret", "owner")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.pop("secret", None)  # never rendered, not even as an initial value
        is_set = bool(self.instance.pk and self.instance.secret)
        self.fields["secret"].help_text += " (currently set)" if is_set else ""

    def clean_url(self) -> str:
        try:
            webhooks.require_postgresql()
            return webhooks.validate_url(self.cleaned_data["url"])
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("secret"):
            data["secret"] = self.instance.secret if self.instance.pk else ""
        return data


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(GuardedModelAdmin):
    form = WebhookEndpointForm
    list_display = ("url", "events", "campaign", "api_sends_only", "active", "disabled_reason", "created_at")
    list_filter = ("active", "api_sends_only")
    search_fields = ("url", "description")
    raw_id_fields = ("campaign", "owner")
    readonly_fields = ("disabled_reason", "failing_since", "created_at", "updated_at")
    actions = ["rotate_secret"]

    def save_model(self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool) -> None:
        shown = ""
        if not obj.secret:
            obj.secret = shown = webhooks.new_secret()
        if obj.active:
            obj.disabled_reason, obj.failing_since = "", None
        obj.owner = obj.owner or request.user
        super().save_model(request, obj, form, change)
        webhooks.forget_endpoints()
        if shown:
            messages.warning(request, f"The signing secret, shown this once (store it now): {shown}")

    @admin.action(description="Rotate the signing secret (the new one is shown once)", permissions=["change"])
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            messages.warning(request, f"New secret of {endpoint.url}, shown once: {webhooks.rotate_secret(endpoint)}")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(GuardedModelAdmin):
    list_display = (
        "id",
        "endpoint",
        "event_type",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
        "next_attempt_at",
        "delivered_at",
    )
    list_filter = ("status", "endpoint")
    list_select_related = ("event", "endpoint")
    readonly_fields = (
        "event",
        "endpoint",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "created_at",
        "delivered_at",
        "payload",
    )
    fields = readonly_fields
    show_full_result_count = False
    actions = ["redeliver_selected"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Type")
    def event_type(self, obj: WebhookDelivery) -> str:
        return obj.event.type

    @admin.display(description="Body (message or campaign)")
    def payload(self, obj: WebhookDelivery) -> dict:
        return obj.event.payload

    @admin.action(description="Redeliver now", permissions=["change"])
    def redeliver_selected(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        count = redeliver(list(queryset.values_list("id", flat=True)))
        self.message_user(request, f"{count} deliveries queued again.", messages.SUCCESS)
