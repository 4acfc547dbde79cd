"""Frequency capping at materialisation, on real PostgreSQL: at most N marketing messages per
recipient in D days; the excess suppressed with a reason, exemptions, concurrency."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, Contact, Message
from campaigns.selectors_reports import suppressed_by_reason
from campaigns.services.frequency_cap import FREQUENCY_LOCK_CLASS, capped_in_preview
from campaigns.services.materialise import materialise_recipients
from campaigns.statuses import MessageStatus as S
from tests.admin.conftest import _fresh_cache, marketer_client, operator_client  # noqa: F401
from tests.e2e.harness import wait_until
from tests.factories import AccountFactory, RecipientListFactory

A, B, C, D = "+447911100001", "+447911100002", "+447911100003", "+447911100004"
REASON = "frequency cap: 2 in 7 days"


def _campaign(account, phones: list[str], **kw) -> Campaign:
    lst = RecipientListFactory()
    Contact.objects.bulk_create(Contact(recipient_list=lst, phone=p) for p in phones)
    campaign = Campaign.objects.create(name="c", account=account, body="Sale", **kw)
    campaign.recipient_lists.add(lst)
    return campaign


def _sent(account, phones: list[str], **kw) -> Campaign:
    campaign = _campaign(account, phones, **kw)
    materialise_recipients(campaign=campaign)
    return campaign


def _statuses(campaign: Campaign) -> dict[str, tuple[str, str]]:
    return {m.phone: (m.status, m.reason) for m in Message.objects.filter(campaign=campaign)}


@pytest.mark.django_db
def test_numbers_at_the_cap_are_suppressed_with_the_reason_and_counted() -> None:
    account = AccountFactory(frequency_cap=2, frequency_cap_days=7)
    _sent(account, [A, B])
    _sent(account, [A])
    campaign = _sent(account, [A, B, C, D])
    assert _statuses(campaign) == {
        A: (S.SUPPRESSED, REASON),  # already had 2
        B: (S.PENDING, ""),
        C: (S.PENDING, ""),
        D: (S.PENDING, ""),
    }
    assert suppressed_by_reason(campaign) == [(REASON, 1)]
    # Now B has 2 as well (the pending message of the last campaign counts).
    assert _statuses(_sent(account, [B, C]))[B] == (S.SUPPRESSED, REASON)


@pytest.mark.django_db
def test_what_counts_window_statuses_and_exempt_campaigns() -> None:
    account = AccountFactory(frequency_cap=1, frequency_cap_days=7)
    old = _sent(account, [A])
    Message.objects.filter(campaign=old).update(created_at=timezone.now() - timedelta(days=8))  # outside the window
    failed = _sent(account, [B])
    Message.objects.filter(campaign=failed).update(status=S.FAILED)  # never reached the phone
    _sent(account, [C], is_test=True)  # test sends neither count...
    _sent(account, [C], is_single_send=True)  # ...nor do API single sends
    delivered = _sent(account, [D])
    Message.objects.filter(campaign=delivered).update(status=S.DELIVERED)
    campaign = _sent(account, [A, B, C, D])
    assert {p: s for p, (s, _) in _statuses(campaign).items()} == {
        A: S.PENDING,
        B: S.PENDING,
        C: S.PENDING,
        D: S.SUPPRESSED,
    }
    # A resend to failed recipients is never capped, and a test send neither.
    assert _statuses(_sent(account, [D], resend_of=campaign))[D][0] == S.PENDING
    assert _statuses(_sent(account, [A], is_test=True))[A][0] == S.PENDING


@pytest.mark.django_db
def test_account_rule_counts_its_own_campaigns_platform_rule_counts_all(settings) -> None:
    capped = AccountFactory(frequency_cap=1, frequency_cap_days=7)
    other = AccountFactory()
    _sent(other, [A])
    assert _statuses(_sent(capped, [A]))[A][0] == S.PENDING  # the other account's message does not count
    assert _statuses(_sent(other, [A, B]))[A][0] == S.PENDING  # no rule for the other account
    settings.FREQUENCY_CAP = "2/7"
    third = AccountFactory()
    result = _statuses(_sent(third, [A, B]))  # A has 3 across accounts, B 1
    assert result == {A: (S.SUPPRESSED, "frequency cap: 2 in 7 days"), B: (S.PENDING, "")}
    # An account's own rule replaces the platform's.
    assert _statuses(_sent(capped, [B]))[B][0] == S.PENDING


@pytest.mark.django_db
def test_no_rule_changes_nothing() -> None:
    account = AccountFactory()
    for _ in range(5):
        campaign = _sent(account, [A])
    assert _statuses(campaign)[A] == (S.PENDING, "")


@pytest.mark.django_db
def test_capping_is_one_statement() -> None:
    from django.test.utils import CaptureQueriesContext

    account = AccountFactory(frequency_cap=1, frequency_cap_days=7)
    _sent(account, [A, B, C])
    campaign = _campaign(account, [A, B, C, D])
    with CaptureQueriesContext(connection) as queries:
        materialise_recipients(campaign=campaign)
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE") and "frequency" in q["sql"]]
    assert len(updates) == 1
    assert [s for s, _ in _statuses(campaign).values()].count(S.SUPPRESSED) == 3


@pytest.mark.django_db
def test_builder_preview_says_how_many_would_be_capped(marketer_client) -> None:  # noqa: F811
    account = AccountFactory(frequency_cap=1, frequency_cap_days=7)
    _sent(account, [A, B])
    lst = RecipientListFactory()
    Contact.objects.bulk_create(Contact(recipient_list=lst, phone=p) for p in (A, B, C))
    cap, count = capped_in_preview(account=account, list_ids=[lst.pk], now=timezone.now())
    assert (cap.messages, cap.days, count) == (1, 7, 2)
    response = marketer_client.post(
        reverse("admin:campaigns_campaign_preview"),
        {"channel": "sms", "body": "Hi", "account": account.pk, "recipient_lists": [lst.pk]},
    )
    cap_info = response.json()["frequency_cap"]
    assert cap_info["rule"] == "1 in 7 days" and cap_info["capped"] == 2
    assert cap_info["message"].startswith("2 recipients already got 1 message in the last 7 days")
    none = marketer_client.post(reverse("admin:campaigns_campaign_preview"), {"channel": "sms", "body": "Hi"})
    assert none.json()["frequency_cap"] is None  # no account chosen, no platform rule


@pytest.mark.django_db
def test_report_lists_the_capped(marketer_client) -> None:  # noqa: F811
    account = AccountFactory(frequency_cap=1, frequency_cap_days=7)
    _sent(account, [A])
    campaign = _sent(account, [A, B])
    response = marketer_client.get(reverse("admin:campaigns_campaign_report", args=[campaign.pk]))
    assert response.status_code == 200
    assert 'data-reason="frequency cap: 1 in 7 days">1 frequency cap: 1 in 7 days</span>' in response.content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(60)
def test_two_campaigns_materialising_at_once_cannot_both_exceed() -> None:
    """Both INSERTs happen while the capping lock is held elsewhere, so neither sees the
    other's messages when it inserts; the lock then lets them cap one after the other."""
    account = AccountFactory(frequency_cap=1, frequency_cap_days=7)
    phones = [f"+4479112{i:05d}" for i in range(200)]
    first, second = _campaign(account, phones), _campaign(account, phones)
    errors: list[BaseException] = []

    def run(campaign: Campaign) -> None:
        try:
            materialise_recipients(campaign=campaign)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    gate = connections.create_connection("default")
    with gate.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, 0)", [FREQUENCY_LOCK_CLASS])
    threads = [threading.Thread(target=run, args=(c,)) for c in (first, second)]
    try:
        for thread in threads:
            thread.start()

        def both_waiting() -> bool:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND NOT granted",
                    [FREQUENCY_LOCK_CLASS],
                )
                return cursor.fetchone()[0] == 2

        wait_until(both_waiting, timeout=30, what="both materialisations waiting for the capping lock")
        assert Message.objects.filter(campaign__in=[first, second]).count() == 0  # inserted, not committed
    finally:
        with gate.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, 0)", [FREQUENCY_LOCK_CLASS])
        gate.close()
        for thread in threads:
            thread.join(timeout=30)
    assert not errors
    sendable = Message.objects.filter(campaign__in=[first, second], status=S.PENDING)
    assert sendable.count() == len(phones)
    assert sendable.values("phone").distinct().count() == len(phones)
    assert Message.objects.filter(
        campaign__in=[first, second], status=S.SUPPRESSED, reason="frequency cap: 1 in 7 days"
    ).count() == len(phones)


@pytest.mark.django_db
def test_account_admin_shows_the_rule_and_wants_both_halves(operator_client) -> None:  # noqa: F811
    account = AccountFactory()
    url = reverse("admin:campaigns_account_change", args=[account.pk])
    page = operator_client.get(url).content.decode()
    assert 'name="frequency_cap"' in page and 'name="frequency_cap_days"' in page
    account.frequency_cap = 3
    with pytest.raises(ValidationError, match="both"):
        account.full_clean()
    account.frequency_cap_days = 7
    account.full_clean()


def test_platform_setting_is_checked(settings) -> None:
    from campaigns.services.frequency_cap import platform_cap

    settings.FREQUENCY_CAP = "3/7"
    assert platform_cap().reason == "frequency cap: 3 in 7 days"
    settings.FREQUENCY_CAP = "three a week"
    with pytest.raises(ImproperlyConfigured):
        platform_cap()
