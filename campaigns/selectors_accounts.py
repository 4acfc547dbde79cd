"""An account's MM4 side in words, for the account page beside the bind health.

MM4 has no long-lived session to watch (a session per batch), so its health is what the
provider last answered: the stop reason when the login was refused, else the outcome of
the account's latest MMS (one campaign lookup and one backward walk of its messages).
"""

from __future__ import annotations

from django.utils import timezone

from campaigns.models import Account, Campaign, Channel, MessagePart


def mm4_health(account: Account) -> list[str]:
    if not account.mm4_host:
        return ["MM4 is not set up for this account (no MM4 host)."]
    where = f"{account.mm4_host}:{account.mm4_port}{' (TLS)' if account.mm4_tls else ''}"
    if account.mm4_stopped_reason:
        return [f"MM4 to {where}: stopped: {account.mm4_stopped_reason} (clear the stop reason to retry)."]
    campaign = (
        Campaign.objects.filter(account=account, channel=Channel.MMS, started_at__isnull=False)
        .order_by("-started_at")
        .first()
    )
    part = (
        MessagePart.objects.filter(message__campaign=campaign, submitted_at__isnull=False).order_by("-id").first()
        if campaign
        else None
    )
    if part is None:
        return [f"MM4 to {where}: no MMS sent yet."]
    when = timezone.localtime(part.submitted_at)
    outcome = f"failed: {part.error}" if part.error else part.get_status_display().lower()
    return [f"MM4 to {where}: last MMS sent {when:%Y-%m-%d %H:%M:%S} {when.tzname()}, {outcome}."]


def account_for_list(list_id: int) -> int | None:
    """The account a new campaign to this list most likely uses: the one of the latest
    campaign sent to it, else the only active account; None when that is not clear."""
    used = (
        Campaign.objects.filter(recipient_lists=list_id, is_single_send=False)
        .order_by("-created_at")
        .values_list("account_id", flat=True)
        .first()
    )
    if used is not None:
        return used
    active = list(Account.objects.filter(active=True).values_list("id", flat=True)[:2])
    return active[0] if len(active) == 1 else None
