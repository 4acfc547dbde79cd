"""POST /api/v1/send/: one SMS or MMS to one number, safe to retry with an Idempotency-Key."""

from __future__ import annotations

import re

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.api.permissions import SEND_CAMPAIGN, requires
from campaigns.api.serializers.messages import MessageSerializer
from campaigns.api.serializers.send import SingleSendSerializer
from campaigns.services import webhooks
from campaigns.services.single_send import KEY_FIELD, SingleSend, send_single

# Printable ASCII without spaces, like the IETF draft's examples (UUIDs, ULIDs, hashes).
KEY_PATTERN = re.compile(r"[!-~]{1,255}")
REPLAYED_HEADER = "Idempotent-Replayed"


def idempotency_key(request: Request) -> str | None:
    raw = request.headers.get(KEY_FIELD)
    if raw is None:
        return None
    if not KEY_PATTERN.fullmatch(raw):
        raise ValidationError(
            {KEY_FIELD: ["Use 1 to 255 printable ASCII characters without spaces, e.g. a UUID."]}, code="invalid"
        )
    return raw


class SingleSendView(APIView):
    """One SMS or MMS to one number."""

    # Thin: shape checked here, everything else (number, opt-out, idempotency) in the service.

    permission_classes = [requires("campaigns.add_campaign", SEND_CAMPAIGN)]

    @extend_schema(
        summary="Send one SMS or MMS to one number",
        description=(
            "Creates a one-message campaign that the dispatcher sends within seconds. With an "
            "Idempotency-Key header, repeating the same request returns the same message (header "
            f"{REPLAYED_HEADER}: true) and never sends twice; the same key with a different request is a 409."
        ),
        tags=["send"],
        request=SingleSendSerializer,
        parameters=[
            OpenApiParameter(
                KEY_FIELD,
                {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
                OpenApiParameter.HEADER,
                required=False,
                description="A unique key per message you mean to send (e.g. a UUID), 1-255 printable ASCII.",
            )
        ],
        responses={
            201: OpenApiResponse(MessageSerializer, description="Created, or replayed for a repeated key."),
        },
    )
    def post(self, request: Request) -> Response:
        key = idempotency_key(request)
        payload = SingleSendSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        callback = data.get("callback_url")
        signer = webhooks.signing_endpoint_for_callback(user=request.user, url=callback) if callback else None
        with transaction.atomic():  # the callback exists before the message can change status
            result = self._send(request, data, key)
            if signer is not None and not result.replayed:
                webhooks.add_callback(campaign_id=result.message.campaign_id, url=callback, signed_by=signer)
        headers = {REPLAYED_HEADER: "true"} if result.replayed else {}
        return Response(MessageSerializer(result.message).data, status=status.HTTP_201_CREATED, headers=headers)

    def _send(self, request: Request, data: dict, key: str | None) -> SingleSend:
        return send_single(
            user=request.user,
            account=data.get("account"),
            route=data.get("route"),
            phone=data["phone"],
            body=data["body"],
            channel=data["channel"],
            sender=data["sender"],
            subject=data["subject"],
            idempotency_key=key,
        )
