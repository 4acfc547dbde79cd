"""The receipt deadline: accepted parts with no receipt become "unknown", set-based."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from campaigns.models import CampaignStatus, Message, MessagePart
from campaigns.selectors import campaign_stats
from campaigns.selectors_reports import campaign_report, message_export_rows
from campaigns.services import receipt_deadline as rd
from campaigns.services.dispatch import complete_finished_campaigns
from campaigns.services.receipts import ReceiptIn, apply_receipts, record_receipts
from campaigns.statuses import MessageStatus as S
from tests.factories import CampaignFactory, MessageFactory, MessagePartFactory

H = timedelta(hours=1)
DEADLINE = 48 * H
GRACE = timedelta(minutes=10)
REASON_48H = "no delivery receipt within 48 h"


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (172800, "48 h"),
        (3600, "1 h"),
        (4200, "1 h 10 min"),
        (60, "1 min"),
        (90, "1 min 30 s"),
        (45, "45 s"),
        (0, "0 s"),
        (3661, "1 h 1 min 1 s"),
        (604800, "168 h"),
    ],
)
def test_duration_words_golden_vectors(seconds: int, words: str) -> None:
    assert rd.duration_words(timedelta(seconds=seconds)) == words


def test_effective_deadline_is_the_shorter_of_the_deadline_and_validity_plus_grace(settings) -> None:
    settings.RECEIPT_DEADLINE_S = 172800
    settings.RECEIPT_DEADLINE_GRACE_S = 600
    assert rd.effective_deadline(None) == DEADLINE
    assert rd.effective_deadline(H) == H + GRACE
    assert rd.effective_deadline(47 * H + timedelta(minutes=55)) == DEADLINE  # with the grace: longer
    assert rd.effective_deadline(7 * 24 * H) == DEADLINE
    assert rd.effective_deadline(timedelta(0)) == GRACE


@given(validity=st.none() | st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)))
def test_effective_deadline_never_exceeds_the_deadline_nor_undercuts_the_validity(validity) -> None:
    effective = rd.effective_deadline(validity)
    assert effective <= rd.receipt_deadline()
    if validity is not None:
        assert effective >= min(rd.receipt_deadline(), validity + rd.receipt_deadline_grace())


def _campaign(status: str = CampaignStatus.RUNNING, **kw):
    return CampaignFactory(status=status, materialised_at=timezone.now(), **kw)


def _message(campaign, submitted_at, part_statuses=(S.ACCEPTED,), status=S.ACCEPTED) -> Message:
    message = MessageFactory(campaign=campaign, status=status, submitted_at=submitted_at, segments=len(part_statuses))
    for index, part_status in enumerate(part_statuses, start=1):
        MessagePartFactory(
            message=message,
            index=index,
            status=part_status,
            submitted_at=submitted_at,
            provider_message_id=f"p{message.id}-{index}",
        )
    return message


def _state(message: Message) -> tuple[str, str, list[tuple[str, str]]]:
    message.refresh_from_db()
    return message.status, message.reason, list(message.parts.order_by("index").values_list("status", "error"))


@pytest.mark.django_db
def test_due_parts_become_unknown_with_the_reason_and_the_rest_is_untouched(settings) -> None:
    settings.RECEIPT_DEADLINE_S = 172800
    now = timezone.now()
    campaign = _campaign()
    due = _message(campaign, now - DEADLINE - timedelta(seconds=1))
    not_yet = _message(campaign, now - DEADLINE + timedelta(seconds=1))
    delivered = _message(campaign, now - 3 * DEADLINE, [S.DELIVERED], status=S.DELIVERED)
    # Two parts, one with its receipt: only the other is owed; the message rolls up unknown.
    half = _message(campaign, now - DEADLINE - H, [S.DELIVERED, S.ACCEPTED])
    assert rd.settle_overdue_parts(now=now) == 2
    assert _state(due) == (S.UNKNOWN, REASON_48H, [(S.UNKNOWN, REASON_48H)])
    assert _state(not_yet) == (S.ACCEPTED, "", [(S.ACCEPTED, "")])
    assert _state(delivered) == (S.DELIVERED, "", [(S.DELIVERED, "")])
    assert _state(half) == (S.UNKNOWN, REASON_48H, [(S.DELIVERED, ""), (S.UNKNOWN, REASON_48H)])
    # The CSV export carries the words (the message's reason and the part's error).
    rows = {r[0]: r for r in message_export_rows(campaign)}
    assert rows[due.phone][1:3] == (S.UNKNOWN, REASON_48H) and rows[due.phone][8] == REASON_48H
    # Idempotent: nothing more is due, nothing changes.
    before = [_state(m) for m in (due, not_yet, delivered, half)]
    assert rd.settle_overdue_parts(now=now) == 0
    assert [_state(m) for m in (due, not_yet, delivered, half)] == before
    # Nothing else is owed but `not_yet`; once it is past the deadline the campaign completes.
    assert complete_finished_campaigns(now=now) == []
    assert rd.settle_overdue_parts(now=now + timedelta(seconds=2)) == 1
    assert complete_finished_campaigns(now=now) == [campaign.id]


@pytest.mark.django_db
def test_a_shorter_validity_period_wins_plus_the_grace(settings) -> None:
    settings.RECEIPT_DEADLINE_S = 172800
    settings.RECEIPT_DEADLINE_GRACE_S = 600
    now = timezone.now()
    short = _campaign(validity_period=H)
    long = _campaign(validity_period=7 * 24 * H)
    within_grace = _message(short, now - H - timedelta(minutes=9))
    past_grace = _message(short, now - H - timedelta(minutes=11))
    long_not_due = _message(long, now - 47 * H)
    long_due = _message(long, now - DEADLINE - timedelta(minutes=1))
    assert rd.settle_overdue_parts(now=now) == 2
    reason = "no delivery receipt within 1 h 10 min"
    assert _state(past_grace) == (S.UNKNOWN, reason, [(S.UNKNOWN, reason)])
    assert _state(within_grace)[0] == S.ACCEPTED
    assert _state(long_not_due)[0] == S.ACCEPTED
    assert _state(long_due) == (S.UNKNOWN, REASON_48H, [(S.UNKNOWN, REASON_48H)])


@pytest.mark.django_db
def test_paused_and_recently_cancelled_campaigns_are_settled_too(settings) -> None:
    settings.RECEIPT_DEADLINE_S = 3600
    now = timezone.now()
    paused = _message(_campaign(CampaignStatus.PAUSED), now - 2 * H)
    cancelled = _message(_campaign(CampaignStatus.CANCELLED, completed_at=now - 2 * H), now - 3 * H)
    assert rd.settle_overdue_parts(now=now) == 2
    assert _state(paused)[:2] == _state(cancelled)[:2] == (S.UNKNOWN, "no delivery receipt within 1 h")


@pytest.mark.django_db
def test_nothing_owed_costs_one_query_and_one_statement_settles_every_due_part(settings) -> None:
    settings.RECEIPT_DEADLINE_S = 60
    now = timezone.now()
    with CaptureQueriesContext(connection) as idle:
        assert rd.settle_overdue_parts(now=now) == 0
    assert len(idle) == 1  # no campaign owes a receipt: only the campaigns are read
    campaigns = [_campaign() for _ in range(3)]
    for campaign in campaigns:
        _message(campaign, now)  # waiting, not yet due
        for _ in range(5):
            _message(campaign, now - H, [S.ACCEPTED, S.ACCEPTED])
    with CaptureQueriesContext(connection) as waiting:
        assert rd.settle_overdue_parts(now=now - H + timedelta(seconds=59)) == 0
    assert not [q for q in waiting if q["sql"].startswith("UPDATE")]  # the probe found nothing: no write
    with CaptureQueriesContext(connection) as busy:
        assert rd.settle_overdue_parts(now=now) == 30
    part_updates = [q["sql"] for q in busy if q["sql"].startswith(f'UPDATE "{MessagePart._meta.db_table}"')]
    assert len(part_updates) == 1
    assert Message.objects.filter(status=S.UNKNOWN, reason="no delivery receipt within 1 min").count() == 15


@pytest.mark.django_db
def test_a_receipt_after_the_deadline_still_applies_and_clears_the_reason(settings) -> None:
    settings.RECEIPT_DEADLINE_S = 172800
    now = timezone.now()
    campaign = _campaign()
    late = _message(campaign, now - DEADLINE - H)
    failed_late = _message(campaign, now - DEADLINE - H)
    never = _message(campaign, now - DEADLINE - H)
    rd.settle_overdue_parts(now=now)
    assert complete_finished_campaigns(now=now) == [campaign.id]
    campaign.refresh_from_db()
    assert campaign_report(campaign).by_status[S.UNKNOWN] == 3  # cached, as the admin shows it

    record_receipts(
        account_id=campaign.account_id,
        receipts=[
            ReceiptIn(provider_message_id=late.parts.get().provider_message_id, status=S.DELIVERED, stat="DELIVRD"),
            ReceiptIn(
                provider_message_id=failed_late.parts.get().provider_message_id, status=S.UNDELIVERED, stat="UNDELIV"
            ),
        ],
    )
    assert apply_receipts() == 2
    assert _state(late) == (S.DELIVERED, "", [(S.DELIVERED, "")])
    assert _state(failed_late) == (S.UNDELIVERED, "", [(S.UNDELIVERED, "")])
    assert _state(never) == (S.UNKNOWN, REASON_48H, [(S.UNKNOWN, REASON_48H)])
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.COMPLETED
    assert campaign_stats(campaign)["by_status"][S.DELIVERED] == 1  # the API's figures: never cached
    report = campaign_report(campaign, fresh=True)  # the admin's, once its minute of cache is up
    assert (report.by_status[S.DELIVERED], report.by_status[S.UNKNOWN]) == (1, 1)
    assert rd.settle_overdue_parts(now=now) == 0


@pytest.mark.django_db
def test_a_backlog_is_worked_off_a_batch_per_tick(settings, monkeypatch) -> None:
    settings.RECEIPT_DEADLINE_S = 60
    monkeypatch.setattr(rd, "SETTLE_BATCH", 2)
    now = timezone.now()
    campaign = _campaign()
    messages = [_message(campaign, now - H) for _ in range(5)]
    assert [rd.settle_overdue_parts(now=now) for _ in range(4)] == [2, 2, 1, 0]
    assert {_state(m)[0] for m in messages} == {S.UNKNOWN}
