"""The admin: the marketer's and operator's UI over the domain.

Lists show what people look for first (status, counts, dates); secrets never render.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count

from campaigns.forms import AccountForm, ContactForm, OptOutForm
from campaigns.models import (
    Account,
    Campaign,
    CampaignMedia,
    Contact,
    InboundMessage,
    Message,
    MessagePart,
    OptOut,
    Receipt,
    RecipientList,
)


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    form = AccountForm
    list_display = (
        "name",
        "system_id",
        "smpp_host",
        "smpp_port",
        "bind_mode",
        "binds",
        "rate_per_bind",
        "active",
    )
    list_filter = ("active", "bind_mode", "smpp_tls")
    search_fields = ("name", "system_id", "smpp_host")
    fieldsets = (
        (None, {"fields": ("name", "active")}),
        (
            "SMPP",
            {
                "fields": (
                    "system_id",
                    "smpp_password",
                    "system_type",
                    ("smpp_host", "smpp_port"),
                    ("smpp_tls", "smpp_tls_ca_file"),
                    ("bind_mode", "binds"),
                    ("rate_per_bind", "window"),
                    ("source_addr", "source_addr_ton", "source_addr_npi"),
                    "message_id_format",
                    "enquire_link_interval",
                    "smpp_stopped_reason",
                )
            },
        ),
        (
            "MMS (MM4)",
            {
                "fields": (
                    ("mm4_host", "mm4_port", "mm4_tls"),
                    "mm4_api_key",
                    "clear_mm4_api_key",
                    "mm4_originator_domain",
                    "mms_rate",
                    "mm4_stopped_reason",
                )
            },
        ),
    )


class ContactInline(admin.TabularInline):
    model = Contact
    form = ContactForm
    extra = 0
    fields = ("phone", "first_name", "last_name", "attributes")
    show_change_link = True


@admin.register(RecipientList)
class RecipientListAdmin(admin.ModelAdmin):
    list_display = ("name", "contact_count", "created_at")
    search_fields = ("name",)
    inlines = [ContactInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_contacts=Count("contacts"))

    @admin.display(description="Contacts", ordering="_contacts")
    def contact_count(self, obj: RecipientList) -> int:
        return obj._contacts


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    form = ContactForm
    list_display = ("phone", "first_name", "last_name", "recipient_list", "created_at")
    list_filter = ("recipient_list",)
    search_fields = ("phone", "first_name", "last_name")
    list_select_related = ("recipient_list",)


@admin.register(OptOut)
class OptOutAdmin(admin.ModelAdmin):
    form = OptOutForm
    list_display = ("phone", "account", "source", "note", "created_at")
    list_filter = ("source", "account")
    search_fields = ("phone",)
    raw_id_fields = ("source_message",)


class CampaignMediaInline(admin.TabularInline):
    model = CampaignMedia
    extra = 0


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "channel", "account", "status", "scheduled_at", "started_at", "completed_at")
    list_filter = ("status", "channel", "account", "is_test")
    search_fields = ("name", "body")
    filter_horizontal = ("recipient_lists",)
    readonly_fields = ("created_by", "created_at", "started_at", "completed_at", "materialised_at")
    inlines = [CampaignMediaInline]

    def save_model(self, request, obj: Campaign, form, change: bool) -> None:
        if not change and obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


class MessagePartInline(admin.TabularInline):
    model = MessagePart
    extra = 0
    can_delete = False
    fields = ("index", "provider_message_id", "status", "error_code", "error", "submitted_at", "done_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("phone", "campaign", "status", "segments", "reason", "submitted_at", "done_at")
    list_filter = ("status", "campaign")
    search_fields = ("phone",)
    list_select_related = ("campaign",)
    raw_id_fields = ("contact",)
    readonly_fields = ("created_at", "updated_at", "submitted_at", "done_at")
    inlines = [MessagePartInline]
    show_full_result_count = False


@admin.register(MessagePart)
class MessagePartAdmin(admin.ModelAdmin):
    list_display = ("id", "message", "index", "provider_message_id", "status", "error_code", "submitted_at")
    list_filter = ("status", "account")
    search_fields = ("provider_message_id", "message__phone")
    raw_id_fields = ("message",)
    show_full_result_count = False


@admin.register(Receipt)
class ReceiptAdmin(admin.ModelAdmin):
    list_display = ("provider_message_id", "account", "stat", "err", "state", "received_at", "applied_at")
    list_filter = ("state", "account", "stat", "channel")
    search_fields = ("provider_message_id",)
    raw_id_fields = ("part",)
    show_full_result_count = False


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    list_display = ("source_addr", "destination_addr", "text", "action", "account", "received_at")
    list_filter = ("account", "action")
    search_fields = ("source_addr", "text")
