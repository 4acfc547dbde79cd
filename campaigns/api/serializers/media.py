"""Media files of MMS campaigns."""

from __future__ import annotations

from pathlib import PurePath

from rest_framework import serializers

from campaigns.api.serializers.common import StrictSerializer
from campaigns.models import CampaignMedia


class CampaignMediaSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField(help_text="The file's name.")

    class Meta:
        model = CampaignMedia
        fields = ["id", "name", "content_type", "size", "position"]
        read_only_fields = fields

    def get_name(self, media: CampaignMedia) -> str:
        return PurePath(media.file.name or "").name


class MediaUploadSerializer(StrictSerializer):
    """One image, audio or video file; the MMS (files, text and subject) must stay within the size limit."""

    file = serializers.FileField(help_text="JPEG, PNG, GIF, AMR, MP3, MP4 or 3GP; checked by its content.")
