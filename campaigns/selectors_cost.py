"""What a campaign costs: estimated before and while it sends, spent once segments are accepted.

Prices are per segment (``campaigns.models.SegmentPrice``): the account's default price, or
its price for the destination country. Messages carry no country column, so the country
is read from the number: the database groups the messages by the first digits of the
number (``PREFIX_LEN`` characters of the E.164 string, a few hundred groups for a million
messages), and each group's country comes from ``phonenumbers`` for one number of the
group. Calling codes of one country (most) need no parse at all. One pass serves all three
figures: the GROUP BY sums both the spent and the planned segments, and its counts are
cached together. An account with one price for every country needs no number at all: the
figures come off the status rollup (``selectors_live.count_by_status``, a few rows).

- ``estimated_cost``: every segment the campaign will send (its messages once they exist,
  suppressed and cancelled ones left out; before that, the recipients of its lists times
  the segments of its text).
- ``spent_cost``: the segments the provider accepted (messages in a sent status, and the
  accepted parts of a message that failed half-way), which is what providers bill; a
  submit the provider refused costs nothing.
- ``cost_by_country``: the spent cost per destination country (ISO code).

Figures are ``Decimal`` in the account's currency; ``None`` when the account has no price.
The counts of a completed campaign are final and cached for an hour; others for 5 s
(``fresh=True`` recounts: the report's "Recount now").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

import phonenumbers
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Min, Q, QuerySet, Sum
from django.db.models.functions import Collate, Left

from campaigns.models import Campaign, CampaignStatus, Channel, Contact, Message, MessagePart, SegmentPrice
from campaigns.selectors import SENT_STATUSES
from campaigns.selectors_live import count_by_status
from campaigns.services.links import preview_text
from campaigns.sms_text.encoding import EncodingError, analyse
from campaigns.sms_text.smart_encoding import smart_encode
from campaigns.statuses import MessageStatus

PREFIX_LEN = 7  # "+" and six digits: enough to tell NANP, +7 and +44's islands apart
UNKNOWN_COUNTRY = "ZZ"  # phonenumbers' own "unknown region"
ANY_COUNTRY = "*"  # every country at the default price (no country prices: no grouping)
NOT_SENDING = (MessageStatus.SUPPRESSED, MessageStatus.CANCELLED, MessageStatus.FAILED)
FINAL_CACHE_S = 3600
LIVE_CACHE_S = 5
API_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class Cost:
    amount: Decimal
    currency: str

    def as_dict(self) -> dict[str, str]:
        """The API's shape: a decimal string to 4 places (never a float: per-segment prices
        are fractions of a cent) and the currency."""
        return {"amount": str(self.amount.quantize(API_PLACES)), "currency": self.currency}

    def __str__(self) -> str:
        """For people: cents above one unit, four places below (a test send costs 0.0035)."""
        places = Decimal("0.01") if abs(self.amount) >= 1 else API_PLACES
        return f"{self.amount.quantize(places):,} {self.currency}"


@dataclass(frozen=True)
class PriceTable:
    default: Decimal | None
    by_country: dict[str, Decimal]
    currency: str

    def price(self, country: str) -> Decimal | None:
        return self.by_country.get(country, self.default)

    @property
    def empty(self) -> bool:
        return self.default is None and not self.by_country


def price_table(account_id: int | None) -> PriceTable:
    """The account's prices (one small query)."""
    rows = list(
        SegmentPrice.objects.filter(account_id=account_id).values_list("country", "price", "currency", named=True)
    )
    default = next((r.price for r in rows if not r.country), None)
    currency = rows[0].currency if rows else ""
    return PriceTable(default, {r.country: r.price for r in rows if r.country}, currency)


@lru_cache(maxsize=4096)
def country_of(phone: str) -> str:
    """The ISO country of an E.164 number ("ZZ" when unknown): by the calling code when it
    belongs to one country, else by ``phonenumbers``' full rules on the number itself."""
    digits = phone.lstrip("+")
    for length in (1, 2, 3):
        regions = (
            phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(digits[:length] or 0))
            if digits[:length].isdigit()
            else None
        )
        if regions:
            if len(regions) == 1 and regions[0] != "001":
                return regions[0]
            break
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return UNKNOWN_COUNTRY
    # A number outside every range of its code still belongs to the code's main country.
    found = phonenumbers.region_code_for_number(number) or phonenumbers.region_code_for_country_code(
        number.country_code
    )
    return found if found and found != "001" else UNKNOWN_COUNTRY


def _by_country(rows: object) -> dict[str, int]:
    """(sample number, units) per number prefix → units per country."""
    units: dict[str, int] = defaultdict(int)
    for sample, count in rows:  # type: ignore[attr-defined]
        units[country_of(sample)] += int(count or 0)
    return dict(units)


def _priced(units: dict[str, int], prices: PriceTable) -> tuple[dict[str, Decimal], bool]:
    """Cost per country, and whether every country had a price."""
    costs, complete = {}, True
    for country, count in units.items():
        price = prices.price(country)
        if price is None:
            complete = False
            continue
        costs[country] = price * count
    return costs, complete


def _planned_from_messages(campaign: Campaign) -> bool:
    """Whether the estimate counts the campaign's messages (they exist) or its recipients."""
    return campaign.materialised_at is not None or Message.objects.filter(campaign=campaign).exists()


def _partial_parts(campaign: Campaign) -> QuerySet:
    """The accepted parts of messages that failed after part of them went (rare, few rows:
    the (campaign, status) index finds the failed messages)."""
    return MessagePart.objects.filter(
        message__campaign=campaign,
        message__status=MessageStatus.FAILED,
        message__segments__gt=1,
        status__in=SENT_STATUSES,
    )


def _flat_segments(campaign: Campaign) -> tuple[dict[str, int], dict[str, int] | None]:
    """(spent, planned or None) under ``ANY_COUNTRY``, read off the status rollup (the
    live figures' few rows, not the messages) plus the partial parts: one price for every
    country needs no number at all."""
    by_status = count_by_status(campaign.pk)
    spent = sum(segments for status, (_, segments) in by_status.items() if status in SENT_STATUSES)
    spent += _partial_parts(campaign).count()
    planned = sum(segments for status, (_, segments) in by_status.items() if status not in NOT_SENDING)
    return {ANY_COUNTRY: spent}, ({ANY_COUNTRY: planned} if by_status else None)


def _sample(field: str) -> Min:
    """One number of a prefix group: its minimum in the "C" collation (bytes) on PostgreSQL,
    a byte compare per row where a linguistic collation (en_US) is several times slower; for
    numbers ("+" and digits) it is the same number. SQLite compares bytes and has no "C"."""
    return Min(Collate(field, "C")) if connection.vendor == "postgresql" else Min(field)


def _prefix_segments(campaign: Campaign) -> tuple[dict[str, int], dict[str, int] | None]:
    """(spent, planned or None) per country in one pass over the messages: one GROUP BY on
    the number prefix with both sums (``FILTER``) where there used to be one scan per figure.
    The sample number is the minimum in bytes (:func:`_sample`)."""
    rows = (
        Message.objects.filter(campaign=campaign)
        .exclude(status__in=NOT_SENDING)
        .annotate(prefix=Left("phone", PREFIX_LEN))
        .values("prefix")
        .annotate(
            sample=_sample("phone"),
            spent=Sum("segments", filter=Q(status__in=SENT_STATUSES)),
            planned=Sum("segments"),
        )
        .values_list("sample", "spent", "planned")
        .order_by()
    )
    spent: dict[str, int] = defaultdict(int)
    planned: dict[str, int] = defaultdict(int)
    for sample, sent_n, planned_n in rows:
        country = country_of(sample)
        if sent_n is not None:  # a prefix with nothing sent yet is no spent country
            spent[country] += int(sent_n)
        planned[country] += int(planned_n or 0)
    partial = (
        _partial_parts(campaign)
        .annotate(prefix=Left("message__phone", PREFIX_LEN))
        .values("prefix")
        .annotate(sample=_sample("message__phone"), n=Count("id"))
        .values_list("sample", "n")
        .order_by()
    )
    for country, n in _by_country(partial).items():
        spent[country] += n
    return dict(spent), (dict(planned) if planned else None)


def campaign_segments(campaign: Campaign, *, by_country: bool = True) -> tuple[dict[str, int], dict[str, int]]:
    """(spent, planned) segments per destination country, or all under ``ANY_COUNTRY`` when
    the account has one price for every country. Spent: the segments of the messages in a
    sent status (all their parts were accepted) plus the accepted parts of messages that
    failed half-way. Planned: the messages not suppressed, cancelled or failed once they
    exist; before that, the recipients of the lists times the segments of the text."""
    spent, planned = (_prefix_segments if by_country else _flat_segments)(campaign)
    if planned is None and not _planned_from_messages(campaign):
        body = preview_text(campaign.body) if campaign.track_links else campaign.body  # links as sent
        per_message = 1 if campaign.channel == Channel.MMS else _segments_of(body, campaign.smart_encoding)
        recipients = recipients_by_country(list(campaign.recipient_lists.values_list("id", flat=True)))
        planned = {country: count * per_message for country, count in recipients.items()}
        if not by_country:
            planned = {ANY_COUNTRY: sum(planned.values())}
    return spent, planned or {}


def recipients_by_country(list_ids: list[int]) -> dict[str, int]:
    """Contacts of the lists per country (a number on two lists counted in each: an upper
    bound that the builder shows as an estimate)."""
    if not list_ids:
        return {}
    rows = (
        Contact.objects.filter(recipient_list_id__in=list_ids)
        .annotate(prefix=Left("phone", PREFIX_LEN))
        .values("prefix")
        .annotate(sample=Min("phone"), n=Count("id"))
        .values_list("sample", "n")
        .order_by()
    )
    return _by_country(rows)


def _segments_of(body: str, smart_encoding: bool = True) -> int:
    """SMS segments of ``body`` as the binds will cut it, smart encoding included when the
    campaign has it (1 for a text that cannot be encoded)."""
    try:
        return analyse(smart_encode(body) if smart_encoding else body).segments
    except EncodingError:
        return 1


def cost_of(units: dict[str, int], account_id: int | None) -> Cost | None:
    """The price of ``units`` (segments per country) on the account; None without prices,
    or when a country has no price and the account no default (a partial sum would mislead)."""
    prices = price_table(account_id)
    return None if prices.empty else _priced_total(units, prices)


def _cached_segments(campaign: Campaign, by_country: bool, fresh: bool) -> tuple[dict[str, int], dict[str, int]]:
    """:func:`campaign_segments`, shared by the three figures and kept as counts (priced on
    each read, so a new price shows at once). A completed campaign's counts are final: kept
    an hour. Others are recounted at most every LIVE_CACHE_S (the report and the stats poll)."""
    final = campaign.status == CampaignStatus.COMPLETED
    stamp = campaign.completed_at.timestamp() if final and campaign.completed_at else campaign.status
    key = f"cost:segments:{int(by_country)}:{campaign.pk}:{stamp}"
    value = None if fresh else cache.get(key)
    if value is None:
        value = campaign_segments(campaign, by_country=by_country)
        cache.set(key, value, FINAL_CACHE_S if final else LIVE_CACHE_S)
    return value


def _total(campaign: Campaign, which: int, fresh: bool) -> Cost | None:
    """Spent (``which`` 0) or planned (1) segments priced; None at once when the account has
    no price (nothing to count: saves a GROUP BY over every message)."""
    prices = price_table(campaign.account_id)
    if prices.empty:
        return None
    units = _cached_segments(campaign, bool(prices.by_country), fresh)[which]
    return _priced_total(units, prices)


def _priced_total(units: dict[str, int], prices: PriceTable) -> Cost | None:
    costs, complete = _priced(units, prices)
    return Cost(sum(costs.values(), Decimal("0")), prices.currency) if complete else None


def estimated_cost(campaign: Campaign, *, fresh: bool = False) -> Cost | None:
    """What sending the whole campaign costs at the account's prices (None: no price)."""
    return _total(campaign, 1, fresh)


def spent_cost(campaign: Campaign, *, fresh: bool = False) -> Cost | None:
    """What the segments the provider accepted cost (None: no price)."""
    return _total(campaign, 0, fresh)


def cost_by_country(campaign: Campaign, *, fresh: bool = False) -> dict[str, Decimal]:
    """The spent cost per destination country (ISO code); countries without a price are
    left out. Empty when the account has no prices."""
    prices = price_table(campaign.account_id)
    if prices.empty:
        return {}
    return _priced(_cached_segments(campaign, True, fresh)[0], prices)[0]


def preview_cost(*, account_id: int | None, list_ids: list[int], per_message: float) -> Cost | None:
    """The builder's estimate: recipients per country × segments per message × price."""
    if account_id is None or price_table(account_id).empty:
        return None
    units = {c: round(n * per_message) for c, n in recipients_by_country(list_ids).items()}
    return cost_of(units, account_id)


def cost_stats(campaign: Campaign) -> dict[str, dict[str, str] | None]:
    """The stats endpoint's cost fields: ``estimated_cost`` and ``spent_cost`` as
    ``{"amount": "12.3450", "currency": "EUR"}``, or None without prices."""
    estimated, spent = estimated_cost(campaign), spent_cost(campaign)
    return {
        "estimated_cost": estimated.as_dict() if estimated else None,
        "spent_cost": spent.as_dict() if spent else None,
    }
