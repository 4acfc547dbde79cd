"""Reads behind the admin's progress bars, delivery reports, exports and previews.

A campaign may have a million messages, so every figure here is an aggregate computed by the
database (GROUP BY); Python only ever sees a few hundred grouped rows. The timeline is in
``selectors_timeline``, the live figures in ``selectors_live``. Exports stream from a
server-side cursor. The report's aggregates are cached briefly (see ``REPORT_CACHE_S``) so
that several people watching a big campaign do not each re-scan it.

If the cold report must get cheaper still, the next step is not an index (the counts come
off the (campaign, status) index already; the timeline reads every row) but a per-minute
rollup table kept by the status services: (campaign, minute, status) → count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, F, Value

from campaigns.models import Campaign, CampaignStatus, Contact, Message, MessagePart, OptOut
from campaigns.selectors import SENT_STATUSES, WAITING_STATUSES, campaign_stats
from campaigns.selectors_failures import failed_messages, reason_rows, with_failing_part
from campaigns.selectors_live import count_by_status
from campaigns.services.bulk_sql import member_of
from campaigns.statuses import FAILURE_STATUSES, S

T = TypeVar("T")
# Settled campaigns change only by a late receipt: a minute-old report is fine. A running
# one is polled by its viewers: five seconds keeps it live without a scan per poll.
REPORT_CACHE_S = {"settled": 60, "live": 5}


@dataclass(frozen=True)
class Progress:
    """Headline counts of one campaign. Percentages are of the messages meant to go out
    (``sendable``: all but suppressed and cancelled), so a finished campaign reads 100 %."""

    total: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    suppressed: int = 0
    cancelled: int = 0
    waiting: int = 0

    @property
    def sendable(self) -> int:
        return self.total - self.suppressed - self.cancelled

    def percent(self, count: int) -> float:
        return round(100.0 * count / self.sendable, 1) if self.sendable else 0.0

    @property
    def sent_pct(self) -> float:
        return self.percent(self.sent)

    @property
    def delivered_pct(self) -> float:
        return self.percent(self.delivered)

    def as_dict(self) -> dict[str, int | float]:
        return {
            "total": self.total,
            "sendable": self.sendable,
            "sent": self.sent,
            "delivered": self.delivered,
            "failed": self.failed,
            "suppressed": self.suppressed,
            "cancelled": self.cancelled,
            "waiting": self.waiting,
            "sent_pct": self.sent_pct,
            "delivered_pct": self.delivered_pct,
        }


def progress_from_counts(by_status: dict[str, int]) -> Progress:
    """The same definitions as :func:`campaigns.selectors.campaign_stats` (sent = handed to
    and accepted by the provider), from counts per status."""
    return Progress(
        total=sum(by_status.values()),
        sent=sum(by_status.get(s, 0) for s in SENT_STATUSES),
        delivered=by_status.get(S.DELIVERED, 0),
        failed=sum(by_status.get(s, 0) for s in FAILURE_STATUSES),
        suppressed=by_status.get(S.SUPPRESSED, 0),
        cancelled=by_status.get(S.CANCELLED, 0),
        waiting=sum(by_status.get(s, 0) for s in WAITING_STATUSES),
    )


def campaign_progress(campaign: Campaign) -> Progress:
    """One campaign's progress (the detail page's poll): from the status rollup (see
    ``selectors_live.count_by_status``), so a poll costs the same for a million messages."""
    return progress_from_counts({s: c.messages for s, c in count_by_status(campaign.id).items()})


SETTLED = (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED, CampaignStatus.DRAFT)


def campaigns_progress(campaigns: Mapping[int, str]) -> dict[int, Progress]:
    """Progress of several campaigns (a changelist page, ``{id: status}``) in one GROUP BY
    campaign, status. Finished campaigns (and drafts, which have no messages) are cached for
    a minute: a list of fifty old campaigns should not recount their millions on every
    visit, while the running ones are always counted afresh."""
    result: dict[int, Progress] = {}
    keys = {i: f"campaign-progress:{i}:{s}" for i, s in campaigns.items() if s in SETTLED}
    cached = cache.get_many(list(keys.values())) if keys else {}
    for campaign_id, key in keys.items():
        if key in cached:
            result[campaign_id] = cached[key]
    ids = [i for i in campaigns if i not in result]
    counts: dict[int, dict[str, int]] = {i: {} for i in ids}
    if ids:
        rows = (
            Message.objects.filter(campaign_id__in=ids)
            .values_list("campaign_id", "status")
            .annotate(n=Count("id"))
            .order_by()
        )
        for campaign_id, status, n in rows:
            counts[campaign_id][status] = n
    fresh = {i: progress_from_counts(c) for i, c in counts.items()}
    cache.set_many({keys[i]: p for i, p in fresh.items() if i in keys}, REPORT_CACHE_S["settled"])
    return result | fresh


@dataclass(frozen=True)
class FailureGroup:
    """Failed parts sharing a status and an error: an SMPP command_status from submit_sm_resp
    (``kind="smpp"``) or the ``err`` of a delivery receipt (``kind="receipt"``)."""

    kind: str
    code: int | None
    status: str
    count: int
    sample: str


@dataclass
class CampaignReport:
    progress: Progress
    by_status: dict[str, int]
    failures: list[FailureGroup] = field(default_factory=list)
    computed_at: datetime | None = None

    @property
    def delivery_rate(self) -> float | None:
        """Delivered of sent (suppressed and cancelled never reached the network)."""
        return round(100.0 * self.progress.delivered / self.progress.sent, 1) if self.progress.sent else None


def _cached(campaign: Campaign, name: str, compute: Callable[[], T], fresh: bool) -> T:
    settled = campaign.status in (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED)
    key = f"campaign-{name}:{campaign.id}:{campaign.status}"
    value = None if fresh else cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, REPORT_CACHE_S["settled" if settled else "live"])
    return value


def campaign_report(campaign: Campaign, *, fresh: bool = False) -> CampaignReport:
    """Counts per status (``campaign_stats``: an index-only GROUP BY) and failures by error,
    cached for a few seconds. The timeline is separate (``selectors_timeline``): it has to
    read every row, so the page shows it as an image that arrives on its own request."""

    def compute() -> CampaignReport:
        by_status = campaign_stats(campaign)["by_status"]
        progress = progress_from_counts(by_status)
        failures = _failures(campaign.id) if progress.failed else []
        return CampaignReport(progress, by_status, failures, datetime.now(UTC))

    return _cached(campaign, "report", compute, fresh)


def suppressed_by_reason(campaign: Campaign) -> list[tuple[str, int]]:
    """Why the campaign's suppressed messages were not sent (opted out, invalid number, the
    frequency cap), most first: a GROUP BY on the (campaign, status) index's rows."""
    rows = (
        Message.objects.filter(campaign_id=campaign.id, status=S.SUPPRESSED)
        .values_list("reason")
        .annotate(n=Count("id"))
        .order_by("-n", "reason")
    )
    return [(reason or "suppressed", n) for reason, n in rows]


def _failures(campaign_id: int) -> list[FailureGroup]:
    """Failed parts by (status, kind, code); the join starts from the campaign's failed
    messages (the (campaign, status) index), so a mostly-delivered campaign costs little."""
    message = connection.ops.quote_name(Message._meta.db_table)
    part = connection.ops.quote_name(MessagePart._meta.db_table)
    marks = ", ".join(["%s"] * len(FAILURE_STATUSES))
    sql = (
        f"SELECT p.status, CASE WHEN p.error LIKE 'receipt err%%' THEN 'receipt' ELSE 'smpp' END, p.error_code, "
        f"MIN(p.error), COUNT(*) FROM {message} m JOIN {part} p ON p.message_id = m.id "
        f"WHERE m.campaign_id = %s AND m.status IN ({marks}) AND p.status IN ({marks}) "
        f"GROUP BY 1, 2, 3 ORDER BY 5 DESC"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [campaign_id, *FAILURE_STATUSES, *FAILURE_STATUSES])
        return [FailureGroup(kind, code, status, n, sample or "") for status, kind, code, sample, n in cursor]


EXPORT_COLUMNS = (
    "phone",
    "status",
    "reason",
    "reason_code",
    "segments",
    "submitted_at",
    "done_at",
    "error_code",
    "error",
)


def message_export_rows(
    campaign: Campaign, *, failed_only: bool = False, keys: list[tuple[str, int | None]] | None = None
) -> Iterator[tuple]:
    """Every message of the campaign (``failed_only``: those not delivered, of ``keys``'
    (status, error code) pairs when given) with its status,
    its reason in words and the raw codes of its first failing part, streamed from a
    server-side cursor in id order (never the whole result in memory)."""
    if failed_only:
        messages = failed_messages(campaign, keys)
    else:
        messages = with_failing_part(Message.objects.filter(campaign_id=campaign.id)).order_by("id")
    messages = messages.annotate(error_code=F("fp_error_code"), error=F("fp_error"))
    return reason_rows(messages.annotate(channel=Value(campaign.channel)), EXPORT_COLUMNS)


PREVIEW_CACHE_S = 30
NAME_FIELDS = ("first_name", "last_name")  # variables that are Contact columns, not attributes


def preview_contacts(list_ids: list[int], *, limit: int = 5) -> list[Contact]:
    """The first recipients (by number) of the chosen lists, for the builder's preview.

    By number, not by id: each list's slice then comes straight off the unique (list, phone)
    index, so a million-contact list costs a few index pages, not a sort. Cached briefly:
    the preview asks again on every pause in typing, and only the body has changed.
    """
    ids = sorted(set(list_ids))
    if not ids:
        return []
    key = f"preview-contacts:{limit}:{','.join(map(str, ids))}"
    contacts = cache.get(key)
    if contacts is None:
        fields = ("phone", "first_name", "last_name", "attributes")
        merged: dict[str, Contact] = {}
        for list_id in ids:
            for contact in Contact.objects.filter(recipient_list_id=list_id).order_by("phone").only(*fields)[:limit]:
                merged.setdefault(contact.phone, contact)
        contacts = [merged[p] for p in sorted(merged)][:limit]
        cache.set(key, contacts, PREVIEW_CACHE_S)
    return contacts


def recipient_count(list_ids: list[int]) -> int:
    """Distinct numbers over the lists (one list is unique per number already), before
    opt-outs; cached briefly like the preview contacts."""
    ids = sorted(set(list_ids))
    if not ids:
        return 0
    key = f"recipient-count:{','.join(map(str, ids))}"
    count = cache.get(key)
    if count is None:
        contacts = Contact.objects.filter(recipient_list_id__in=ids)
        count = contacts.count() if len(ids) == 1 else contacts.values("phone").distinct().count()
        cache.set(key, count, PREVIEW_CACHE_S)
    return count


def recipients_lacking(list_ids: list[int], names: list[str]) -> dict[str, int]:
    """How many recipients of the lists have no value for each variable: one aggregate
    statement over the contacts (a ``SUM(CASE …)`` per name on the attributes JSON), never a
    loop over them in Python. A number on several lists counts once, with the contact the
    campaign will use (the lowest id, as materialisation picks it), by an anti-join: the
    ``IN (SELECT MIN(id) … GROUP BY phone)`` form took ten times longer on a million. "No
    value" is what :func:`campaigns.services.personalise.render` treats as missing: absent,
    JSON null or "". Cached briefly: the variables rarely change while the body is typed.
    """
    ids = sorted(set(list_ids))
    names = sorted(set(names))
    if not ids or not names:
        return {}
    key = f"recipients-lacking:{','.join(map(str, ids))}:{','.join(names)}"
    counts = cache.get(key)
    if counts is None:
        counts = dict(zip(names, _count_lacking(ids, names), strict=True))
        cache.set(key, counts, PREVIEW_CACHE_S)
    return counts


def _count_lacking(ids: list[int], names: list[str]) -> list[int]:
    table = connection.ops.quote_name(Contact._meta.db_table)
    lists_sql, lists_params = member_of("c.recipient_list_id", ids)
    sums, params = [], []
    for name in names:
        if name in NAME_FIELDS:  # the contact's own columns win over attributes of that name
            empty, empty_params = f"c.{name} = ''", []
        elif connection.vendor == "postgresql":
            empty, empty_params = "COALESCE(c.attributes ->> %s, '') = ''", [name]
        else:  # SQLite: json_extract gives SQL NULL for an absent key and for JSON null alike
            empty, empty_params = "COALESCE(json_extract(c.attributes, %s), '') = ''", [f'$."{name}"']
        sums.append(f"COALESCE(SUM(CASE WHEN {empty} THEN 1 ELSE 0 END), 0)")
        params.extend(empty_params)
    sql = f"SELECT {', '.join(sums)} FROM {table} c WHERE {lists_sql}"
    params.extend(lists_params)
    if len(ids) > 1:
        earlier_sql, earlier_params = member_of("d.recipient_list_id", ids)
        sql += f" AND NOT EXISTS (SELECT 1 FROM {table} d WHERE {earlier_sql} AND d.phone = c.phone AND d.id < c.id)"
        params.extend(earlier_params)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [int(n) for n in cursor.fetchone()]


def optout_export_rows() -> Iterator[tuple]:
    """Every opt-out (phone, account system_id or blank for all, source, note, created)."""
    return (
        OptOut.objects.order_by("id")
        .values_list("phone", "account__system_id", "source", "note", "created_at")
        .iterator(chunk_size=5000)
    )
