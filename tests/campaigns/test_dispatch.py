"""The tick: starting, claiming with backpressure, pause/resume/cancel, quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.errors import ApplicationError
from campaigns.models import Campaign, CampaignStatus, Message
from campaigns.services import campaign_actions as actions
from campaigns.services.dispatch import tick
from campaigns.services.quiet_hours import next_allowed
from campaigns.statuses import MessageStatus as S
from tests.factories import AccountFactory, CampaignFactory, ContactFactory, RecipientListFactory

pytestmark = pytest.mark.django_db


def _campaign(n: int, *, account=None, body='Hi {{ first_name|default:"there" }}', **kw) -> Campaign:
    lst = RecipientListFactory()
    for i in range(n):
        ContactFactory(recipient_list=lst, phone=f"+4479111{i:05d}", first_name="" if i % 2 else "Ann")
    campaign = CampaignFactory(account=account or AccountFactory(binds=2, rate_per_bind=10), body=body, **kw)
    campaign.recipient_lists.add(lst)
    return campaign


class Collect(list):
    def __call__(self, batch) -> None:
        self.append(batch)


def test_due_scheduled_campaign_starts_and_is_claimed_within_budget(
    django_capture_on_commit_callbacks,
) -> None:
    campaign = _campaign(100)
    now = timezone.now()
    actions.schedule(campaign=campaign, at=now + timedelta(seconds=5))
    sent = Collect()
    assert tick(enqueue=sent, now=now) == []  # not yet due
    with django_capture_on_commit_callbacks(execute=True):
        batches = tick(enqueue=sent, now=now + timedelta(seconds=6))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.RUNNING
    # 2 binds x 10/s x 2 s horizon = 40 messages, in batches of 10 (one bind-second each):
    # idle binds get one round (a batch each) first, the second round a tick later.
    assert sum(len(b.message_ids) for b in batches) == 20
    assert all(len(b.message_ids) == 10 and b.system_id == campaign.account.system_id for b in batches)
    assert len(sent) == len(batches)  # enqueued only after commit
    with django_capture_on_commit_callbacks(execute=True):
        assert sum(len(b.message_ids) for b in tick(enqueue=sent, now=now + timedelta(seconds=6.5))) == 20
    assert Message.objects.filter(campaign=campaign, status=S.QUEUED).count() == 40
    # Backpressure: nothing more until those leave "queued".
    assert tick(enqueue=sent, now=now + timedelta(seconds=7)) == []
    bodies = set(Message.objects.filter(campaign=campaign, status=S.QUEUED).values_list("body", flat=True))
    assert bodies == {"Hi Ann", "Hi there"}


def test_an_unpaced_account_gets_its_assumed_rate_for_the_horizon(settings) -> None:
    settings.DISPATCH_UNPACED_RATE_PER_BIND = 30
    settings.DISPATCH_HORIZON_S = 2.0
    campaign = _campaign(200, account=AccountFactory(binds=2, rate_per_bind=0), body="Hi")
    actions.send_now(campaign=campaign)
    batches = tick(enqueue=Collect())
    # 2 binds x 30/s x 2 s = 120 in flight: less than an unpaced bind's batch (500), so
    # one batch of 60 for each bind.
    assert [len(b.message_ids) for b in batches] == [60, 60]
    assert tick(enqueue=Collect()) == []


@pytest.mark.django_db(transaction=True)
def test_a_rounds_batches_are_claimed_in_one_statement_and_enqueued_once_committed() -> None:
    campaign = _campaign(60, account=AccountFactory(binds=2, rate_per_bind=10), body="Hi")
    actions.send_now(campaign=campaign)
    queued_when_enqueued = []

    def enqueue(batch) -> None:
        queued_when_enqueued.append(Message.objects.filter(campaign=campaign, status=S.QUEUED).count())

    with CaptureQueriesContext(connection) as queries:
        batches = tick(enqueue=enqueue)
    # 2 binds x 10/s: a first round of 2 batches of 10: one UPDATE claimed both, each batch under
    # its own claim (a redelivered batch finds its earlier attempt by its claim alone), and
    # both went out after the commit, together.
    assert [len(b.message_ids) for b in batches] == [10, 10]
    assert queued_when_enqueued == [20, 20]
    assert len([q for q in queries.captured_queries if q["sql"].startswith("WITH picked")]) == 1
    assert len({b.claim for b in batches}) == 2
    for batch in batches:
        claims = set(Message.objects.filter(id__in=batch.message_ids).values_list("claim", flat=True))
        assert claims == {batch.claim}


@pytest.mark.django_db(transaction=True)
def test_send_now_and_resume_enqueue_a_tick_once_committed() -> None:
    # Not a second's wait for beat: the action's commit puts a tick on the broker (the
    # real one: RabbitMQ under CI, the file-system broker otherwise).
    from config.celery import DEFAULT_QUEUE, app, durable_queue

    campaign = _campaign(3, body="Hi")
    with app.connection_for_write() as conn:
        queue = conn.SimpleQueue(durable_queue(DEFAULT_QUEUE))
        try:
            queue.clear()
            tasks = []
            for action in (actions.send_now, actions.pause, actions.resume):
                action(campaign=campaign)
                if action is not actions.pause:
                    message = queue.get(timeout=10)
                    message.ack()
                    tasks.append(message.headers["task"])
            with pytest.raises(queue.Empty):  # pause enqueued nothing, and nothing twice
                queue.get(timeout=0.5)
        finally:
            queue.close()
    assert tasks == ["campaigns.tick", "campaigns.tick"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL advisory lock")
def test_a_second_tick_claims_nothing_for_an_account_another_tick_is_claiming() -> None:
    # Two ticks at once would each read the same budget and claim the horizon twice.
    from django.db import connections

    from campaigns.services.claims import CLAIM_LOCK_CLASS

    campaign = _campaign(30, account=AccountFactory(binds=1, rate_per_bind=10), body="Hi")
    actions.send_now(campaign=campaign)
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [CLAIM_LOCK_CLASS, campaign.account_id])
        assert tick(enqueue=Collect()) == []
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [CLAIM_LOCK_CLASS, campaign.account_id])
    finally:
        other.close()
    assert sum(len(b.message_ids) for b in tick(enqueue=Collect())) == 10  # the binds' first round


def test_pause_releases_queued_and_stops_claims_resume_continues() -> None:
    campaign = _campaign(30)
    actions.send_now(campaign=campaign)
    tick(enqueue=Collect())
    assert Message.objects.filter(campaign=campaign, status=S.QUEUED).count() == 30
    actions.pause(campaign=campaign)
    assert Message.objects.filter(campaign=campaign, status=S.PENDING).count() == 30
    assert tick(enqueue=Collect()) == []
    actions.resume(campaign=campaign)
    assert sum(len(b.message_ids) for b in tick(enqueue=Collect())) == 30


def test_cancel_cancels_unsent_and_refuses_twice() -> None:
    campaign = _campaign(5)
    actions.send_now(campaign=campaign)
    actions.cancel(campaign=campaign)
    assert set(Message.objects.filter(campaign=campaign).values_list("status", flat=True)) == {S.CANCELLED}
    with pytest.raises(ApplicationError, match="cancelled"):
        actions.cancel(campaign=campaign)
    with pytest.raises(ApplicationError):
        actions.resume(campaign=campaign)


def test_campaign_completes_when_every_message_is_settled() -> None:
    campaign = _campaign(3)
    actions.send_now(campaign=campaign)
    Message.objects.filter(campaign=campaign).update(status=S.DELIVERED)
    now = timezone.now()
    tick(enqueue=Collect(), now=now)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.COMPLETED
    assert campaign.completed_at == now


def test_send_rate_caps_a_campaign_below_the_account() -> None:
    campaign = _campaign(50, send_rate=3)
    actions.send_now(campaign=campaign)
    assert sum(len(b.message_ids) for b in tick(enqueue=Collect())) == 6  # 3/s x 2 s


def test_quiet_hours_defer_messages_to_the_local_opening() -> None:
    campaign = _campaign(4, quiet_hours_start=time(9), quiet_hours_end=time(20), timezone="Europe/London")
    actions.send_now(campaign=campaign)
    night = datetime(2026, 1, 15, 23, 0, tzinfo=UTC)  # 23:00 in London (GMT)
    assert tick(enqueue=Collect(), now=night) == []
    opening = datetime(2026, 1, 16, 9, 0, tzinfo=UTC)
    assert set(Message.objects.filter(campaign=campaign).values_list("not_before", flat=True)) == {opening}
    assert tick(enqueue=Collect(), now=opening - timedelta(seconds=1)) == []
    assert sum(len(b.message_ids) for b in tick(enqueue=Collect(), now=opening)) == 4


@pytest.mark.parametrize(
    ("now", "zone", "expected"),
    [
        (datetime(2026, 7, 1, 12, 0, tzinfo=UTC), "Europe/London", None),
        (datetime(2026, 7, 1, 19, 30, tzinfo=UTC), "Europe/London", datetime(2026, 7, 2, 8, 0, tzinfo=UTC)),
        (datetime(2026, 7, 1, 3, 0, tzinfo=UTC), "America/New_York", datetime(2026, 7, 1, 13, 0, tzinfo=UTC)),
    ],
)
def test_next_allowed(now: datetime, zone: str, expected: datetime | None) -> None:
    assert next_allowed(now, zone, time(9), time(20)) == expected


def test_overnight_window() -> None:
    assert next_allowed(datetime(2026, 1, 1, 23, tzinfo=UTC), "UTC", time(20), time(8)) is None
    assert next_allowed(datetime(2026, 1, 1, 12, tzinfo=UTC), "UTC", time(20), time(8)) == datetime(
        2026, 1, 1, 20, tzinfo=UTC
    )


def test_test_send_is_separate_and_validates_numbers() -> None:
    campaign = _campaign(3)
    with pytest.raises(ApplicationError, match="not a valid phone number"):
        actions.send_test(campaign=campaign, phones=["nope"])
    test = actions.send_test(campaign=campaign, phones=["+447911100099", "+44 7911 100099"])
    assert test.is_test and test.status == CampaignStatus.RUNNING
    assert list(Message.objects.filter(campaign=test).values_list("phone", flat=True)) == ["+447911100099"]
    assert not Message.objects.filter(campaign=campaign).exists()


def test_resend_failed_makes_a_new_campaign_of_failed_recipients() -> None:
    campaign = _campaign(4)
    actions.send_now(campaign=campaign)
    phones = list(Message.objects.filter(campaign=campaign).order_by("id").values_list("phone", flat=True))
    Message.objects.filter(phone__in=phones[:2]).update(status=S.UNDELIVERED)
    Message.objects.filter(phone__in=phones[2:]).update(status=S.DELIVERED)
    resend = actions.resend_failed(campaign=campaign)
    assert resend.resend_of_id == campaign.id and resend.status == CampaignStatus.DRAFT
    assert sorted(resend.recipient_lists.get().contacts.values_list("phone", flat=True)) == sorted(phones[:2])
    actions.send_now(campaign=resend)
    assert sorted(Message.objects.filter(campaign=resend).values_list("phone", flat=True)) == sorted(phones[:2])
    assert sum(len(b.message_ids) for b in tick(enqueue=Collect())) == 2


def test_stalled_queued_messages_are_released_and_reclaimed_under_a_new_claim() -> None:
    campaign = _campaign(5)
    actions.send_now(campaign=campaign)
    now = timezone.now()
    first = tick(enqueue=Collect(), now=now)
    assert sum(len(b.message_ids) for b in first) == 5
    Message.objects.update(updated_at=now - timedelta(seconds=31))  # the batch vanished
    second = tick(enqueue=Collect(), now=now + timedelta(seconds=31))
    assert sum(len(b.message_ids) for b in second) == 5
    assert {b.claim for b in second}.isdisjoint({b.claim for b in first})
