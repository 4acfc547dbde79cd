"""Provider accounts. Operators edit them (secrets write-only); others see the name only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from campaigns.admin.account_health import AccountHealthMixin
from campaigns.admin.base import GuardedModelAdmin
from campaigns.admin.prices import SegmentPriceInline
from campaigns.forms import AccountForm
from campaigns.models import Account

NAME_ONLY = ((None, {"fields": ("name",)}),)


@admin.register(Account)
class AccountAdmin(AccountHealthMixin, GuardedModelAdmin):  # health + test connection: account_health.py
    form = AccountForm
    inlines = [SegmentPriceInline]  # prices per segment (campaigns.selectors_cost)
    list_display = ("name", "system_id", "smpp_host", "smpp_port", "bind_mode", "binds", "rate_per_bind", "active")
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
                    ("mm4_inbound_username", "mm4_inbound_password"),
                    "clear_mm4_inbound_password",
                    "mms_rate",
                    "mm4_stopped_reason",
                )
            },
        ),
        (
            "Marketing rules",
            {
                "fields": (("frequency_cap", "frequency_cap_days"),),
                "description": "A recipient gets at most this many messages from this account's campaigns "
                "in that many days (test sends, API sends and resends to failed recipients excluded). "
                "See the marketers' guide, docs/marketers.md.",
            },
        ),
    )

    # A read-only admin page renders every field's value, secrets included: people who may
    # not change accounts (marketers) therefore see the name and nothing else.
    def get_fieldsets(self, request: HttpRequest, obj: Account | None = None) -> Any:
        return super().get_fieldsets(request, obj) if self.has_change_permission(request, obj) else NAME_ONLY

    def get_list_display(self, request: HttpRequest) -> Any:
        return self.list_display if self.has_change_permission(request) else ("name",)

    def get_list_filter(self, request: HttpRequest) -> Any:
        return self.list_filter if self.has_change_permission(request) else ()

    def get_search_fields(self, request: HttpRequest) -> Any:
        return self.search_fields if self.has_change_permission(request) else ("name",)
