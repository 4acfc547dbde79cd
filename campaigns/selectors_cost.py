"""What a campaign costs: estimated before and while it sends, spent once segments are accepted.

Prices are per segment (``campaigns.models.SegmentPrice``): the account's default price, or
its price for the destination country. Messages carry no country column, so the country
is read from the number: the database groups the messages by the first digits of the
number (``PREFIX_LEN`` characters of the E.164 string, a few hundred groups for a million
messages), and each group's country comes from ``phonenumbers`` for one number of the
group. Calling codes of one country (most) need no parse at all. An account with one price
for every country needs no grouping: one SUM over the campaign's (campaign, status) index.

- ``estimated_cost``: every segment the campaign will send (its messages once they exist,
  suppressed and cancelled ones left out; before that, the recipients of its lists times
  the segments of its text).
- ``spent_cost``: the segments the provider accepted (messages in a sent status, and the
  accepted parts of a message that failed half-way), which is what providers bill; a
  submit the provider refused costs nothing.
- ``cost_by_country``: the spent cost per destination country (ISO code).

Figures are ``Decimal`` in the account's currency; ``None`` when the account has no price.
A completed campaign's figures are final and cached for an hour; others for 5 s.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

import phonenumbers
from django.core.cache import cache
from django.db.models import Aggregate, Count, Min, QuerySet, Sum
from django.db.models.functions import Left

from campaigns.models import Campaign, CampaignStatus, Channel, Contact, Message, MessagePart, SegmentPrice
from campaigns.selectors import SENT_STATUSES
from campaigns.services.links import preview_text
from campaigns.sms_text.encoding import EncodingError, analyse
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


def _grouped(queryset: QuerySet, phone: str, amount: Aggregate, by_country: bool) -> dict[str, int]:
    """``amount`` per country (numbers grouped by prefix), or all under ``ANY_COUNTRY`` when
    the account has one price for every country (one aggregate, no grouping)."""
    if not by_country:
        return {ANY_COUNTRY: int(queryset.aggregate(n=amount)["n"] or 0)}
    rows = (
        queryset.annotate(prefix=Left(phone, PREFIX_LEN))
        .values("prefix")
        .annotate(sample=Min(phone), n=amount)
        .values_list("sample", "n")
        .order_by()
    )
    return _by_country(rows)


def _merge(*parts: dict[str, int]) -> dict[str, int]:
    merged: dict[str, int] = defaultdict(int)
    for part in parts:
        for country, n in part.items():
            merged[country] += n
    return dict(merged)


def spent_segments_by_country(campaign: Campaign, *, by_country: bool = True) -> dict[str, int]:
    """Accepted segments per destination country: the segments of the messages in a sent
    status (all their parts were accepted; the (campaign, status) index finds them), plus the
    accepted parts of messages that failed after part of them went (rare, and few rows)."""
    sent = Message.objects.filter(campaign=campaign, status__in=SENT_STATUSES)
    partial = MessagePart.objects.filter(
        message__campaign=campaign,
        message__status=MessageStatus.FAILED,
        message__segments__gt=1,
        status__in=SENT_STATUSES,
    )
    return _merge(
        _grouped(sent, "phone", Sum("segments"), by_country),
        _grouped(partial, "message__phone", Count("id"), by_country),
    )


def planned_segments_by_country(campaign: Campaign, *, by_country: bool = True) -> dict[str, int]:
    """Segments the campaign will send per country: its messages once they exist, else its
    recipients times the segments of its text (the builder's estimate)."""
    messages = Message.objects.filter(campaign=campaign).exclude(status__in=NOT_SENDING)
    if campaign.materialised_at is not None or messages.exists():
        return _grouped(messages, "phone", Sum("segments"), by_country)
    body = preview_text(campaign.body) if campaign.track_links else campaign.body  # links as sent
    per_message = 1 if campaign.channel == Channel.MMS else _segments_of(body)
    recipients = recipients_by_country(list(campaign.recipient_lists.values_list("id", flat=True)))
    return {country: count * per_message for country, count in recipients.items()}


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


def _segments_of(body: str) -> int:
    """SMS segments of ``body`` as the binds will cut it (1 for a text that cannot be encoded)."""
    try:
        return analyse(body).segments
    except EncodingError:
        return 1


def cost_of(units: dict[str, int], account_id: int | None) -> Cost | None:
    """The price of ``units`` (segments per country) on the account; None without prices,
    or when a country has no price and the account no default (a partial sum would mislead)."""
    prices = price_table(account_id)
    if prices.empty:
        return None
    costs, complete = _priced(units, prices)
    if not complete:
        return None
    return Cost(sum(costs.values(), Decimal("0")), prices.currency)


def _cached(campaign: Campaign, name: str, compute):  # noqa: ANN001, ANN202
    """A completed campaign's cost is final: kept an hour. Others are recounted at most
    every LIVE_CACHE_S (a GROUP BY over every message: the report and the stats poll)."""
    final = campaign.status == CampaignStatus.COMPLETED
    stamp = campaign.completed_at.timestamp() if final and campaign.completed_at else campaign.status
    key = f"cost:{name}:{campaign.pk}:{stamp}"
    value = cache.get(key)
    if value is None:
        value = ("v", compute())
        cache.set(key, value, FINAL_CACHE_S if final else LIVE_CACHE_S)
    return value[1]


def _total(campaign: Campaign, name: str, segments_by_country) -> Cost | None:  # noqa: ANN001
    """``segments_by_country(campaign, by_country=…)`` priced and cached; None at once when the
    account has no price (nothing to count: saves a GROUP BY over every message)."""
    prices = price_table(campaign.account_id)
    if prices.empty:
        return None
    by_country = bool(prices.by_country)
    return _cached(
        campaign, name, lambda: cost_of(segments_by_country(campaign, by_country=by_country), campaign.account_id)
    )


def estimated_cost(campaign: Campaign) -> Cost | None:
    """What sending the whole campaign costs at the account's prices (None: no price)."""
    return _total(campaign, "estimated", planned_segments_by_country)


def spent_cost(campaign: Campaign) -> Cost | None:
    """What the segments the provider accepted cost (None: no price)."""
    return _total(campaign, "spent", spent_segments_by_country)


def cost_by_country(campaign: Campaign) -> dict[str, Decimal]:
    """The spent cost per destination country (ISO code); countries without a price are
    left out. Empty when the account has no prices."""

    def compute() -> dict[str, Decimal]:
        prices = price_table(campaign.account_id)
        return {} if prices.empty else _priced(spent_segments_by_country(campaign), prices)[0]

    return _cached(campaign, "by-country", compute)


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
