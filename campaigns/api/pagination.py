"""Pagination: page numbers for the small resources, cursors for messages.

Messages run to millions per campaign: OFFSET pages get slower the deeper you go and
shift while statuses change, so messages use a keyset cursor on ``id``. Every page size
is capped, so no request can ask for a million rows at once.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination, PageNumberPagination
from rest_framework.request import Request

MAX_ID = 2**63 - 1


class StrictPageSizeMixin:
    """A bad ``page_size`` is a 400 (DRF would silently use the default); above the cap it is capped."""

    page_size: int
    max_page_size: int
    page_size_query_param = "page_size"

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit() and int(raw) >= 1):
            raise ValidationError(
                {self.page_size_query_param: [f"Give a whole number from 1 (at most {self.max_page_size} are sent)."]}
            )
        return min(int(raw), self.max_page_size)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)  # type: ignore[misc]
        for parameter in parameters:
            if parameter["name"] in (self.page_size_query_param, "page"):
                parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = f"Results per page (default {self.page_size}, at most {self.max_page_size})."
        return parameters


class PagePagination(StrictPageSizeMixin, PageNumberPagination):
    page_size = 50
    max_page_size = 500

    def get_page_number(self, request: Request, paginator: Any) -> Any:
        """DRF reads ``?page=`` (empty) as page 1; here it is an invalid page like any other."""
        page_number = request.query_params.get(self.page_query_param)
        if page_number is None:
            return 1
        if page_number in self.last_page_strings:
            return paginator.num_pages
        return page_number


class MessageCursorPagination(StrictPageSizeMixin, CursorPagination):
    """Newest first, keyed on the primary key (unique and indexed: no duplicates, no gaps)."""

    ordering = "-id"
    page_size = 100
    max_page_size = 1000

    def decode_cursor(self, request: Request) -> Cursor | None:
        """DRF trusts the position inside the cursor; a forged one must be a 404, not a 500."""
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            position = cursor.position
            if not (position.isascii() and position.isdigit() and len(position) <= 19 and int(position) <= MAX_ID):
                raise NotFound(self.invalid_cursor_message)
        return cursor
