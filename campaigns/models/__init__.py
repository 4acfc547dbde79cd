"""Domain models, one module per concern; import them from here."""

from campaigns.models.accounts import Account, BindMode, MessageIdFormat
from campaigns.models.audience import Contact, OptOut, OptOutSource, RecipientList
from campaigns.models.campaigns import Campaign, CampaignMedia, CampaignPace, CampaignStatus, Channel
from campaigns.models.history import ApprovalState, CampaignEvent, EventKind
from campaigns.models.jobs import IdempotencyKey, ImportJob, ImportJobStatus
from campaigns.models.links import Click, ShortCode, TrackedLink, UserAgentClass
from campaigns.models.messages import PROVIDER_ID_MAX_LENGTH, BatchInFlight, Message, MessagePart, MessageStatusDelta
from campaigns.models.prices import SegmentPrice
from campaigns.models.receipts import InboundMessage, Receipt, ReceiptState
from campaigns.models.routes import Route, RouteEntry, RouteStrategy
from campaigns.models.tokens import ApiToken
from campaigns.models.webhooks import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
)

__all__ = [
    "PROVIDER_ID_MAX_LENGTH",
    "Account",
    "ApiToken",
    "ApprovalState",
    "BatchInFlight",
    "BindMode",
    "Campaign",
    "CampaignEvent",
    "CampaignMedia",
    "CampaignPace",
    "CampaignStatus",
    "Channel",
    "Click",
    "Contact",
    "DeliveryStatus",
    "EventKind",
    "IdempotencyKey",
    "ImportJob",
    "ImportJobStatus",
    "InboundMessage",
    "Message",
    "MessageIdFormat",
    "MessagePart",
    "MessageStatusDelta",
    "OptOut",
    "OptOutSource",
    "Receipt",
    "ReceiptState",
    "RecipientList",
    "Route",
    "RouteEntry",
    "RouteStrategy",
    "SegmentPrice",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "WebhookEventType",
    "ShortCode",
    "TrackedLink",
    "UserAgentClass",
]
