"""Send one SMS or MMS to one number, on request, at most once per Idempotency-Key.

A single send is a one-message campaign, created already running with its Message row,
so the ordinary tick claims, paces and sends it like any other: no second sending path.

Idempotency: a client that times out and retries must not text someone twice. The key is
stored in :class:`~campaigns.models.IdempotencyKey` (unique per user and key) in the same
transaction as the campaign and message. A concurrent duplicate blocks on that unique
index until the first commits, then finds its row; the first's failure rolls the key back
so a retry can succeed. The fingerprint is taken from the *normalised* request, so
``+44 7700 900123`` and ``+447700900123`` are the same request.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from campaigns import selectors
from campaigns.errors import ApplicationError
from campaigns.models import Account, Campaign, CampaignStatus, Channel, IdempotencyKey, Message, Route
from campaigns.services import routes, routing
from campaigns.services.mms import validate_mms_for_sending
from campaigns.services.personalise import render, template_problems
from campaigns.services.phones import normalise_phone

KEY_FIELD = "Idempotency-Key"
CAMPAIGN_NAME_MAX = 200


@dataclass(frozen=True)
class SingleSend:
    """The outcome: the message, and whether it was created earlier under the same key."""

    message: Message
    replayed: bool


def fingerprint(payload: dict[str, object]) -> str:
    """SHA-256 of the canonical JSON of the normalised request."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def send_single(
    *,
    user: AbstractBaseUser,
    account: Account | None,
    phone: str,
    body: str,
    route: Route | None = None,
    channel: str = Channel.SMS,
    sender: str = "",
    subject: str = "",
    idempotency_key: str | None = None,
) -> SingleSend:
    """Create (or, for a repeated key, find) the message for one API send.

    Raises ApplicationError: ``invalid_phone`` (with the reason), ``opted_out``, an
    inactive account or unusable body, and ``idempotency_conflict`` when the key was
    used before with a different request. With a ``route`` (instead of an account) the
    message gets its account when the tick claims it; opt-outs are those of the route's
    home account (``routes.home_account``).
    """
    phone = normalise_phone(phone)
    request = {"phone": phone, "body": body, "channel": channel, "sender": sender, "subject": subject}
    if route is not None:
        request["route"] = route.id
    request_hash = fingerprint({"account": account.id if account else None, **request})
    if idempotency_key is not None:
        existing = IdempotencyKey.objects.filter(user=user, key=idempotency_key).first()
        if existing is not None:
            return _replay(existing, request_hash)
    with transaction.atomic():
        key_row = None
        if idempotency_key is not None:
            try:
                with transaction.atomic():
                    key_row = IdempotencyKey.objects.create(user=user, key=idempotency_key, request_hash=request_hash)
            except IntegrityError:
                # A concurrent request with the same key committed first: answer as it did.
                return _replay(IdempotencyKey.objects.get(user=user, key=idempotency_key), request_hash)
        if route is not None:
            if not route.active:
                raise ApplicationError("The route is inactive.", field="route")
            account = routes.home_account(route)
            if not routing.serves(route.id, phone):
                raise ApplicationError(f"No entry of the route is for {phone}.", field="phone", code="no_route")
        assert account is not None  # the serializer asks for one of them
        _validate(account=account, phone=phone, body=body, channel=channel, subject=subject)
        message = _create_message(
            user=user,
            account=account,
            route=route,
            phone=phone,
            text=render(body, {}),
            channel=channel,
            sender=sender,
            subject=subject,
            name_suffix=idempotency_key,
        )
        if channel == Channel.MMS:
            validate_mms_for_sending(message.campaign)  # the MMS rules of every MMS campaign; rolls back
        if key_row is not None:
            key_row.message = message
            key_row.response_status = 201
            key_row.response_body = {"message": message.id, "campaign": message.campaign_id}
            key_row.save(update_fields=["message", "response_status", "response_body"])
    return SingleSend(message=message, replayed=False)


def _replay(existing: IdempotencyKey, request_hash: str) -> SingleSend:
    if existing.request_hash != request_hash:
        raise ApplicationError(
            "This Idempotency-Key was already used with a different request; use a new key for a new message.",
            field=KEY_FIELD,
            code="idempotency_conflict",
        )
    message = Message.objects.filter(id=existing.message_id).select_related("campaign").first()
    if message is None:
        raise ApplicationError(
            "The message sent under this Idempotency-Key has since been deleted.", field=KEY_FIELD, code="conflict"
        )
    return SingleSend(message=message, replayed=True)


def _validate(*, account: Account, phone: str, body: str, channel: str, subject: str) -> None:
    if not account.active:
        raise ApplicationError("The account is inactive.", field="account")
    problems = template_problems(body)
    if problems:
        raise ApplicationError(problems[0], field="body")
    if channel == Channel.SMS and not body.strip():
        raise ApplicationError("The message is empty.", field="body")
    if selectors.is_opted_out(phone=phone, account_id=account.id):
        raise ApplicationError(f"{phone} has opted out of messages from this account.", field="phone", code="opted_out")


def _create_message(
    *,
    user: AbstractBaseUser,
    account: Account,
    route: Route | None,
    phone: str,
    text: str,
    channel: str,
    sender: str,
    subject: str,
    name_suffix: str | None,
) -> Message:
    """A running, already materialised one-message campaign: the next tick sends it."""
    now = timezone.now()
    campaign = Campaign.objects.create(
        name=f"API send {name_suffix}"[:CAMPAIGN_NAME_MAX] if name_suffix else "API send",
        channel=channel,
        account=account,
        route=route,
        sender=sender,
        body=text,
        mms_subject=subject,
        status=CampaignStatus.RUNNING,
        is_test=False,
        is_single_send=True,
        created_by=user,
        started_at=now,
        materialised_at=now,
    )
    message = Message.objects.create(campaign=campaign, phone=phone, body=text)
    if not name_suffix:
        campaign.name = f"API send #{message.id}"
        Campaign.objects.filter(id=campaign.id).update(name=campaign.name)
    message.campaign = campaign
    return message
