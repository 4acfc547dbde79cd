"""The campaign list's "Kind" filter: marketers' campaigns by default, API single sends apart.

Every ``POST /api/v1/send/`` makes a one-message campaign (``is_single_send``); hundreds of
them would bury the campaigns people made. The list shows campaigns only unless asked for
the single sends (or everything).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

CAMPAIGNS, SINGLE_SENDS, EVERYTHING = "campaigns", "api", "all"


class KindFilter(admin.SimpleListFilter):
    title = "kind"
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(CAMPAIGNS, "Campaigns"), (SINGLE_SENDS, "API single sends"), (EVERYTHING, "Everything")]

    def choices(self, changelist: Any) -> Any:
        current = self.value() or CAMPAIGNS
        for value, label in self.lookup_choices:
            yield {
                "selected": current == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value() or CAMPAIGNS
        if value == SINGLE_SENDS:
            return queryset.filter(is_single_send=True)
        if value == EVERYTHING:
            return queryset
        return queryset.filter(is_single_send=False)
