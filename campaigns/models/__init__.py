"""Domain models, one module per concern; import them from here."""

from campaigns.models.accounts import Account, BindMode, MessageIdFormat
from campaigns.models.audience import Contact, OptOut, OptOutSource, RecipientList
from campaigns.models.campaigns import Campaign, CampaignMedia, CampaignPace, CampaignStatus, Channel
from campaigns.models.jobs import IdempotencyKey, ImportJob, ImportJobStatus
from campaigns.models.messages import PROVIDER_ID_MAX_LENGTH, BatchInFlight, Message, MessagePart, MessageStatusDelta
from campaigns.models.prices import SegmentPrice
from campaigns.models.receipts import InboundMessage, Receipt, ReceiptState
from campaigns.models.routes import Route, RouteEntry, RouteStrategy
from campaigns.models.tokens import ApiToken

__all__ = [
    "PROVIDER_ID_MAX_LENGTH",
    "Account",
    "ApiToken",
    "BatchInFlight",
    "BindMode",
    "Campaign",
    "CampaignMedia",
    "CampaignPace",
    "CampaignStatus",
    "Channel",
    "Contact",
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
]
