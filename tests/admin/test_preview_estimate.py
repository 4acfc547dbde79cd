"""The builder's estimated duration: the real pace (cap, account, segments, quiet hours,
campaigns already running) and which of them limits it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from campaigns.admin.estimate import human_duration
from campaigns.models import CampaignStatus, Contact
from tests.factories import AccountFactory, CampaignFactory, RecipientListFactory

pytestmark = pytest.mark.django_db
PREVIEW = "admin:campaigns_campaign_preview"


def _list(n: int):
    lst = RecipientListFactory()
    Contact.objects.bulk_create(Contact(recipient_list=lst, phone=f"+4479111{i:05d}") for i in range(n))
    return lst


def _preview(client, **data) -> dict:
    response = client.post(reverse(PREVIEW), {"channel": "sms", **data})
    assert response.status_code == 200
    return response.json()


def test_human_durations() -> None:
    assert [human_duration(s) for s in (30, 120, 500, 5400, 90000)] == [
        "under a minute",
        "about 2 min",
        "about 8 min 20 s",
        "about 1 h 30 min",
        "about 1 day 1 h",
    ]


def test_a_cap_below_the_account_sets_the_pace(marketer_client) -> None:
    account = AccountFactory(binds=2, rate_per_bind=50)
    data = _preview(
        marketer_client, body="Sale on now", account=account.pk, recipient_lists=[_list(1000).pk], send_rate=2
    )
    assert (data["estimated_seconds"], data["estimated_duration"], data["pace_per_s"]) == (500, "about 8 min 20 s", 2)
    assert data["limited_by"] == "the campaign's cap of 2 msg/s"


def test_the_cap_counts_segments(marketer_client) -> None:
    account = AccountFactory(binds=2, rate_per_bind=50)
    data = _preview(marketer_client, body="x" * 200, account=account.pk, recipient_lists=[_list(300).pk], send_rate=20)
    assert data["total_segments"] == 600 and data["estimated_seconds"] == 30  # 600 segments at 20/s


def test_without_a_cap_the_account_limits_and_says_how(marketer_client) -> None:
    account = AccountFactory(binds=2, rate_per_bind=50)
    data = _preview(marketer_client, body="Hi", account=account.pk, recipient_lists=[_list(1200).pk], send_rate=500)
    assert data["estimated_seconds"] == 12 and data["pace_per_s"] == 100
    assert data["limited_by"] == "the account's capacity of 100 msg/s (2 binds × 50/s)"


def test_campaigns_already_running_share_the_account(marketer_client) -> None:
    account = AccountFactory(binds=2, rate_per_bind=50)
    CampaignFactory(account=account, status=CampaignStatus.RUNNING, send_rate=20)
    CampaignFactory(account=account, status=CampaignStatus.RUNNING)
    data = _preview(marketer_client, body="Hi", account=account.pk, recipient_lists=[_list(400).pk])
    # 100/s: 20 to the capped one, the other 80 split between the uncapped one and this.
    assert data["pace_per_s"] == 40 and data["estimated_seconds"] == 10
    assert data["limited_by"].endswith("shared with 2 running campaigns")


def test_quiet_hours_stretch_sending_over_days(marketer_client) -> None:
    account = AccountFactory(binds=1, rate_per_bind=1)
    data = _preview(
        marketer_client,
        body="Hi",
        account=account.pk,
        recipient_lists=[_list(7200).pk],
        quiet_hours_start="09:00",
        quiet_hours_end="10:00",
    )
    # Two hours of sending, one a day: the second hour is the next morning.
    assert data["estimated_seconds"] == 86400 + 3600
    assert data["limited_by"].startswith("quiet hours (09:00–10:00, 1 h of sending a day) and the account's")
    short = _preview(
        marketer_client,
        body="Hi",
        account=account.pk,
        recipient_lists=[_list(60).pk],
        quiet_hours_start="09:00",
        quiet_hours_end="10:00",
    )
    assert short["estimated_seconds"] == 60 and not short["limited_by"].startswith("quiet hours")
