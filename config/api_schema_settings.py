"""drf-spectacular's settings for the API schema (/api/schema/, docs/api.md); imported by
``config/settings.py``."""

from __future__ import annotations

SPECTACULAR_SETTINGS = {
    "TITLE": "Campaign dispatch API",
    "DESCRIPTION": (
        "Recipient lists, contacts, opt-outs, campaigns and their actions, messages, and single sends. "
        "Authenticate with 'Authorization: Token <token>' (manage.py create_api_token <user>). "
        'Every error is {"errors": [{"field", "code", "message"}]}. See docs/api.md.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's files from this app (drf-spectacular-sidecar), not a CDN: /api/docs/
    # works offline and under the Content-Security-Policy.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Separate request and response components: read-only fields are not offered as input.
    "COMPONENT_SPLIT_REQUEST": True,
    # Stable component names for the enums that share a field name (status, source).
    "ENUM_NAME_OVERRIDES": {
        "CampaignStatusEnum": "campaigns.models.campaigns.CampaignStatus",
        "MessageStatusEnum": "campaigns.statuses.MessageStatus",
        "ChannelEnum": "campaigns.models.campaigns.Channel",
        "OptOutSourceEnum": "campaigns.models.audience.OptOutSource",
        "WebhookEventTypeEnum": "campaigns.models.webhooks.WebhookEventType",
        "WebhookDeliveryStatusEnum": "campaigns.models.webhooks.DeliveryStatus",
        "ApprovalStateEnum": "campaigns.models.history.ApprovalState",
        "CampaignEventKindEnum": "campaigns.models.history.EventKind",
        "RouteStrategyEnum": "campaigns.models.routes.RouteStrategy",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "campaigns.api.schema.strict_request_bodies",
    ],
}
