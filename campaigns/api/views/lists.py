"""/api/v1/lists/: recipient lists, plus bulk add (JSON) and CSV upload of their contacts.

Both imports call the same service as the admin's import, so a number is accepted or
refused for the same reason everywhere; good rows are kept when some rows are bad, and the
answer says which rows were refused and why.
"""

from __future__ import annotations

import io

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from campaigns import selectors
from campaigns.api.parsers import MultiPartParser
from campaigns.api.permissions import requires
from campaigns.api.serializers.audience import (
    BulkContactsSerializer,
    ContactImportSerializer,
    ImportResultSerializer,
    RecipientListSerializer,
)
from campaigns.api.views.base import CrudViewSet
from campaigns.models import RecipientList
from campaigns.services import contacts_import

HEADER_BYTES = 64 * 1024
CAN_ADD_CONTACTS = [requires("campaigns.view_recipientlist", "campaigns.add_contact")]
TAGS = ["lists"]


@extend_schema_view(
    list=extend_schema(summary="List recipient lists", tags=TAGS),
    create=extend_schema(summary="Create a recipient list", tags=TAGS),
    retrieve=extend_schema(summary="Get a recipient list", tags=TAGS),
    update=extend_schema(summary="Replace a recipient list", tags=TAGS),
    partial_update=extend_schema(summary="Rename or describe a recipient list", tags=TAGS),
    destroy=extend_schema(summary="Delete a recipient list and its contacts", tags=TAGS),
)
class RecipientListViewSet(CrudViewSet):
    """Recipient lists; contacts are added one by one, in bulk as JSON, or from a CSV file."""

    serializer_class = RecipientListSerializer

    def get_queryset(self) -> QuerySet[RecipientList]:
        return selectors.recipient_list_list()

    @extend_schema(
        summary="Add contacts as JSON (up to 1000 a request)",
        tags=TAGS,
        request=BulkContactsSerializer,
        responses={200: ImportResultSerializer},
    )
    @action(detail=True, methods=["post"], url_path="contacts", permission_classes=CAN_ADD_CONTACTS)
    def add_contacts(self, request: Request, pk: str | None = None) -> Response:
        recipient_list = self.get_object()
        rows = self.validated(BulkContactsSerializer)["contacts"]
        result = contacts_import.add_contacts(recipient_list=recipient_list, rows=rows)
        return Response(ImportResultSerializer(result).data)

    @extend_schema(
        summary="Upload a CSV of contacts (multipart/form-data)",
        tags=TAGS,
        request={"multipart/form-data": ContactImportSerializer},
        responses={200: ImportResultSerializer},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="import",
        permission_classes=CAN_ADD_CONTACTS,
        parser_classes=[MultiPartParser],
    )
    def import_csv(self, request: Request, pk: str | None = None) -> Response:
        recipient_list = self.get_object()
        data = self.validated(ContactImportSerializer)
        upload = data["file"]
        mapping = data.get("mapping")
        if mapping is None:
            # Guess from the header, read from a copy of the first block: open_csv's text
            # wrapper would close the upload itself when it is dropped.
            head = io.BytesIO(upload.read(HEADER_BYTES))
            upload.seek(0)
            mapping = contacts_import.guess_mapping(contacts_import.open_csv(head).header)
        result = contacts_import.import_contacts_csv(
            recipient_list=recipient_list, stream=upload, mapping=mapping, created_by=request.user
        )
        result.discard_report()
        return Response(ImportResultSerializer(result).data)
