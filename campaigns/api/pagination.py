"""Pagination: page numbers for the small resources, cursors for messages.

Messages run to millions per campaign: OFFSET pages get slower the deeper you go and
shift while statuses change, so messages use a keyset cursor on ``id``. Every page size
is capped, so no request can ask for a million rows at once.
"""

from __future__ import annotations

from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor, CursorPagination, PageNumberPagination
from rest_framework.request import Request

MAX_ID = 2**63 - 1


class PagePagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class MessageCursorPagination(CursorPagination):
    """Newest first, keyed on the primary key (unique and indexed: no duplicates, no gaps)."""

    ordering = "-id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000

    def decode_cursor(self, request: Request) -> Cursor | None:
        """DRF trusts the position inside the cursor; a forged one must be a 404, not a 500."""
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            position = cursor.position
            if not (position.isascii() and position.isdigit() and len(position) <= 19 and int(position) <= MAX_ID):
                raise NotFound(self.invalid_cursor_message)
        return cursor
