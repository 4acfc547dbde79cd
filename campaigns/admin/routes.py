"""Routes: a route's prefixes and their accounts, edited inline on the route's page."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from campaigns.admin.base import GuardedModelAdmin
from campaigns.models import Route, RouteEntry


class RouteEntryInline(admin.TabularInline):
    model = RouteEntry
    fields = ("prefix", "account", "weight", "price", "position")
    extra = 1
    verbose_name_plural = (
        "Entries: the longest prefix a number starts with wins (blank: every other number); "
        "weights split a prefix's traffic, prices choose for least cost, position orders the failover"
    )


@admin.register(Route)
class RouteAdmin(GuardedModelAdmin):
    list_display = ("name", "strategy", "active", "entry_count")
    list_filter = ("strategy", "active")
    search_fields = ("name",)
    inlines = [RouteEntryInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Route]:
        return super().get_queryset(request).annotate(entry_total=Count("entries"))

    @admin.display(description="Entries", ordering="entry_total")
    def entry_count(self, obj: Route) -> int:
        return obj.entry_total
