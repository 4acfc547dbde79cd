"""Messages, their parts, receipts and replies: read mostly, for support and audits.

These tables hold millions of rows, so no page counts them in full (show_full_result_count
off) and related objects are raw ids, never dropdowns.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from campaigns.admin.base import GuardedModelAdmin
from campaigns.failure_reasons import Reason
from campaigns.models import BatchInFlight, InboundMessage, Message, MessagePart, Receipt
from campaigns.selectors_failures import message_reason, with_failing_part
from campaigns.statuses import DEADLINE_REASON_PREFIX


def part_history(part: MessagePart) -> str:
    """A part's status history: its submit, then every receipt received for it, in order."""
    events = []
    if part.submitted_at:
        events.append(f"{part.submitted_at:%Y-%m-%d %H:%M:%S} submitted (attempt {part.attempts or 1})")
    for receipt in part.receipts.order_by("received_at", "id"):
        err = f" err {receipt.err}" if receipt.err and receipt.err not in ("000", "0") else ""
        events.append(f"{receipt.received_at:%Y-%m-%d %H:%M:%S} receipt {receipt.stat or receipt.status}{err}")
    if part.error.startswith(DEADLINE_REASON_PREFIX):  # settled by the receipt deadline, then
        events.append(f"{part.updated_at:%Y-%m-%d %H:%M:%S} {part.error}: unknown")
    elif part.error:
        events.append(f"error: {part.error}")
    return format_html_join(mark_safe("<br>"), "{}", ((e,) for e in events)) or "–"


class ReadOnlyAdminMixin:
    """Messages, parts, receipts and replies are records of what happened: nobody edits,
    adds or deletes them here, superusers included (the services own their states)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class MessagePartInline(admin.TabularInline):
    model = MessagePart
    extra = 0
    can_delete = False
    fields = ("index", "provider_message_id", "local_message_id", "status", "error_code", "history", "done_at")
    readonly_fields = fields

    @admin.display(description="History")
    def history(self, obj: MessagePart) -> str:
        return part_history(obj)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ReceiptInline(admin.TabularInline):
    model = Receipt
    extra = 0
    can_delete = False
    fields = ("received_at", "stat", "err", "state", "applied_at", "raw")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Message)
class MessageAdmin(ReadOnlyAdminMixin, GuardedModelAdmin):
    list_display = ("phone", "campaign", "status", "segments", "reason_words", "submitted_at", "done_at")
    list_filter = ("status", "campaign")
    search_fields = ("phone",)
    list_select_related = ("campaign",)
    raw_id_fields = ("contact", "campaign")
    readonly_fields = ("reason_words", "reason_code", "created_at", "updated_at", "submitted_at", "done_at")
    inlines = [MessagePartInline]
    show_full_result_count = False
    # The report's Failures table links here by (status, part error code).
    FAILURE_LOOKUPS = ("parts__error_code", "parts__error_code__isnull")

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return with_failing_part(super().get_queryset(request))

    def lookup_allowed(self, lookup: str, value: str, request=None) -> bool:  # type: ignore[no-untyped-def]
        return lookup in self.FAILURE_LOOKUPS or super().lookup_allowed(lookup, value, request)

    def _reason(self, obj: Message) -> Reason:
        reason = message_reason(obj)
        return reason if reason.words or not obj.reason else Reason(obj.reason)

    @admin.display(description="Reason")
    def reason_words(self, obj: Message) -> str:
        """Why it did not arrive, in words (the same words as the API and the export)."""
        return self._reason(obj).words or "–"

    @admin.display(description="Raw codes")
    def reason_code(self, obj: Message) -> str:
        return self._reason(obj).code or "–"


@admin.register(MessagePart)
class MessagePartAdmin(ReadOnlyAdminMixin, GuardedModelAdmin):
    list_display = ("id", "message", "index", "provider_message_id", "status", "error_code", "submitted_at")
    list_filter = ("status", "account")
    search_fields = ("provider_message_id", "local_message_id")
    raw_id_fields = ("message", "account")
    show_full_result_count = False
    inlines = [ReceiptInline]


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdminMixin, GuardedModelAdmin):
    list_display = ("provider_message_id", "account", "stat", "err", "state", "received_at", "applied_at")
    list_filter = ("state", "account", "stat", "channel")
    search_fields = ("provider_message_id",)
    raw_id_fields = ("part",)
    show_full_result_count = False


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdminMixin, GuardedModelAdmin):
    list_display = ("source_addr", "destination_addr", "text", "action", "account", "received_at")
    list_filter = ("account", "action")
    search_fields = ("source_addr", "text")


@admin.register(BatchInFlight)
class BatchInFlightAdmin(GuardedModelAdmin):
    """The batches workers are sending now: read-only (the sweeper and workers own them)."""

    list_display = ("id", "account", "worker", "size", "on_wire_count", "started_at", "heartbeat_at")
    list_filter = ("account",)
    readonly_fields = ("account", "claim", "worker", "message_ids", "on_wire", "started_at", "heartbeat_at")

    @admin.display(description="Messages")
    def size(self, obj: BatchInFlight) -> int:
        return len(obj.message_ids)

    @admin.display(description="Parts on the wire")
    def on_wire_count(self, obj: BatchInFlight) -> int:
        return len(obj.on_wire)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
