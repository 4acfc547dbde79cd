"""/api/v1/campaigns/{campaign_id}/media/: the images, audio and video of an MMS campaign.

Uploads go through ``campaigns.services.mms.add_media``, the same check as the admin's form
(type proven by the content, the whole MMS within the size limit), so both refuse the same
files with the same words.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.request import Request
from rest_framework.response import Response

from campaigns.api.parsers import MultiPartParser
from campaigns.api.serializers.media import CampaignMediaSerializer, MediaUploadSerializer
from campaigns.api.views.base import ResourceViewSet
from campaigns.models import Campaign, CampaignMedia
from campaigns.services.campaign_edits import apply_edit, require_editable
from campaigns.services.mms import add_media

TAGS = ["campaigns"]
CAMPAIGN_ID = OpenApiParameter("campaign_id", int, OpenApiParameter.PATH, description="The campaign's id.")


@extend_schema_view(
    list=extend_schema(summary="List an MMS campaign's media", tags=TAGS, parameters=[CAMPAIGN_ID]),
    create=extend_schema(
        summary="Attach a media file to an MMS campaign (multipart/form-data)",
        tags=TAGS,
        parameters=[CAMPAIGN_ID],
        request={"multipart/form-data": MediaUploadSerializer},
        responses={201: CampaignMediaSerializer},
    ),
    retrieve=extend_schema(summary="Get one media file's details", tags=TAGS, parameters=[CAMPAIGN_ID]),
    destroy=extend_schema(summary="Remove a media file from an MMS campaign", tags=TAGS, parameters=[CAMPAIGN_ID]),
)
class CampaignMediaViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, ResourceViewSet
):
    """The media files an MMS campaign carries, in order."""

    serializer_class = CampaignMediaSerializer
    parser_classes = [MultiPartParser]

    def campaign(self) -> Campaign:
        return get_object_or_404(Campaign, pk=self.kwargs["campaign_id"])

    def get_queryset(self) -> QuerySet[CampaignMedia]:
        return CampaignMedia.objects.filter(campaign_id=self.kwargs["campaign_id"]).order_by("position", "id")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.campaign()  # an unknown campaign is a 404, not an empty list
        return super().list(request, *args, **kwargs)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        campaign = self.campaign()
        upload = self.validated(MediaUploadSerializer)["file"]
        require_editable(campaign)
        media = add_media(campaign=campaign, file=upload, name=upload.name, declared_type=upload.content_type or "")
        apply_edit(campaign=campaign, changed={"media"}, actor=request.user)  # withdraws an approval
        return self.respond(media, status.HTTP_201_CREATED)

    def perform_destroy(self, instance: CampaignMedia) -> None:
        require_editable(instance.campaign)
        instance.delete()  # the file stays: a duplicated campaign's media may share it
        apply_edit(campaign=instance.campaign, changed={"media"}, actor=self.request.user)
