"""Frequency capping: a recipient gets at most N marketing messages in D days.

The rule is the account's own (``Account.frequency_cap`` in ``frequency_cap_days``, counting
the messages of that account's campaigns) or else the platform-wide ``FREQUENCY_CAP``
setting ("N/D", counting every account's campaigns). It is applied once, when a campaign
is materialised (``campaigns.services.materialise``): the campaign's messages to numbers
that already have N counted messages in the last D days become ``suppressed`` with the
reason "frequency cap: N in D days", in one UPDATE (``status.suppress_pending``), so they
show in the report with the opted-out and invalid numbers.

What counts, and what is capped:

- Counted: messages of ordinary campaigns created in the window (a message is created
  when its campaign starts) that are sent or on their way: pending, queued, accepted,
  unknown or delivered. A message that was suppressed, cancelled, refused, failed,
  undelivered or expired did not reach the phone and does not count.
- Neither capped nor counted: test sends, API single sends (``POST /api/v1/send/``: a
  transactional message, not marketing) and resends to failed recipients (they replace a
  message that did not arrive).

Two campaigns materialising at once would each count without seeing the other's
uncommitted messages, and both could go over the cap. A transaction-level advisory lock
(PostgreSQL) serialises the capping step: the UPDATE runs under the lock, and the lock is
held until the materialising transaction commits, so whichever comes second sees the
first's messages. The bulk INSERT of the messages runs before the lock, unserialised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet

from campaigns.models import Account, Campaign, Contact, Message
from campaigns.services import status
from campaigns.statuses import S

FREQUENCY_LOCK_CLASS = 0x5EB70D17  # advisory lock (this, 0): one capping step at a time
COUNTED_STATUSES = (S.PENDING, S.QUEUED, S.ACCEPTED, S.UNKNOWN, S.DELIVERED)
PREVIEW_CACHE_S = 30
_SETTING = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class FrequencyCap:
    """At most ``messages`` in ``days``; ``account_id`` None: platform-wide (all accounts)."""

    messages: int
    days: int
    account_id: int | None = None

    @property
    def reason(self) -> str:
        return f"frequency cap: {self.messages} in {self.days} day{'' if self.days == 1 else 's'}"

    def since(self, now: datetime) -> datetime:
        return now - timedelta(days=self.days)


def platform_cap() -> FrequencyCap | None:
    """The FREQUENCY_CAP setting ("3/7": 3 messages in 7 days); None when empty."""
    value = getattr(settings, "FREQUENCY_CAP", "") or ""
    if not value.strip():
        return None
    match = _SETTING.match(value)
    if not match or int(match[1]) < 1 or int(match[2]) < 1:
        raise ImproperlyConfigured(f"FREQUENCY_CAP must look like 3/7 (3 messages in 7 days), not {value!r}")
    return FrequencyCap(int(match[1]), int(match[2]))


def cap_for(account: Account | None) -> FrequencyCap | None:
    """The rule a campaign of ``account`` is under: the account's own, else the platform's."""
    if account is not None and account.frequency_cap and account.frequency_cap_days:
        return FrequencyCap(account.frequency_cap, account.frequency_cap_days, account.pk)
    return platform_cap()


def is_exempt(campaign: Campaign) -> bool:
    """Test sends, API single sends and resends to failed recipients are never capped."""
    return campaign.is_test or campaign.is_single_send or campaign.resend_of_id is not None


def exempt_from_cap(campaign_id: str) -> bool:
    """Whether the campaign of this id (the builder's, as a string) is exempt; False for none."""
    campaign = Campaign.objects.filter(pk=campaign_id).first() if campaign_id.isdigit() else None
    return campaign is not None and is_exempt(campaign)


def counted_messages(cap: FrequencyCap, *, now: datetime, exclude_campaign: int | None = None) -> QuerySet[Message]:
    """The messages the cap counts (see the module's docstring)."""
    messages = Message.objects.filter(
        created_at__gte=cap.since(now),
        status__in=COUNTED_STATUSES,
        campaign__is_test=False,
        campaign__is_single_send=False,
        campaign__resend_of__isnull=True,
    )
    if cap.account_id is not None:
        messages = messages.filter(campaign__account_id=cap.account_id)
    if exclude_campaign is not None:
        messages = messages.exclude(campaign_id=exclude_campaign)
    return messages


def _at_cap(cap: FrequencyCap, *, now: datetime, exclude_campaign: int | None = None) -> Exists:
    """True for a row whose ``phone`` already has ``cap.messages`` counted messages: the
    N-th one exists. One range of the (phone, created_at) index per number, stopping at N."""
    nth = (
        counted_messages(cap, now=now, exclude_campaign=exclude_campaign)
        .filter(phone=OuterRef("phone"))
        .order_by()
        .values("pk")[cap.messages - 1 : cap.messages]
    )
    return Exists(nth)


def apply_frequency_cap(*, campaign: Campaign, now: datetime) -> int:
    """Suppress the campaign's pending messages to numbers already at the cap, in one
    UPDATE; returns how many. Call inside the materialising transaction (the lock is held
    until it commits)."""
    cap = cap_for(campaign.account)
    if cap is None or is_exempt(campaign):
        return 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, 0)", [FREQUENCY_LOCK_CLASS])
    over = Message.objects.filter(campaign_id=campaign.id).filter(_at_cap(cap, now=now, exclude_campaign=campaign.id))
    return status.suppress_pending(over, reason=cap.reason)


def capped_in_preview(
    *, account: Account | None, list_ids: list[int], now: datetime
) -> tuple[FrequencyCap | None, int]:
    """The rule, and how many numbers of the lists it would suppress if the campaign started
    now (the builder's preview; cached briefly, as it is asked on every pause in typing)."""
    cap = cap_for(account)
    if cap is None or not list_ids:
        return cap, 0
    key = f"freqcap:{cap.account_id}:{cap.messages}:{cap.days}:{','.join(map(str, sorted(list_ids)))}"
    count = cache.get(key)
    if count is None:
        contacts = Contact.objects.filter(recipient_list_id__in=list_ids).filter(_at_cap(cap, now=now))
        count = contacts.values("phone").distinct().count()
        cache.set(key, count, PREVIEW_CACHE_S)
    return cap, count
