"""The campaign builder: live preview, schedule with a time zone, and the buttons per role."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from campaigns.models import Campaign, CampaignStatus, Contact, Message
from campaigns.statuses import MessageStatus
from tests.factories import AccountFactory, CampaignFactory, MessageFactory, RecipientListFactory

pytestmark = pytest.mark.django_db
PREVIEW = "admin:campaigns_campaign_preview"


def _list_with(names: list[str]):
    lst = RecipientListFactory()
    Contact.objects.bulk_create(
        Contact(recipient_list=lst, phone=f"+4479111{i:05d}", first_name=n, attributes={"city": "Leeds"})
        for i, n in enumerate(names)
    )
    return lst


def _action(client, campaign: Campaign, name: str, **data):
    return client.post(reverse("admin:campaigns_campaign_action", args=[campaign.pk, name]), data)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_preview_renders_the_first_recipients_and_counts_segments(marketer_client) -> None:
    account = AccountFactory(binds=2, rate_per_bind=50)
    lst = _list_with(["Ann", "Bob", "Cy", "Di", "Ed", "Flo", "Gus"])
    body = "Hi {{ first_name }} from {{ city }}! " + "x" * 150
    response = marketer_client.post(
        reverse(PREVIEW), {"body": body, "account": account.pk, "recipient_lists": [lst.pk], "channel": "sms"}
    )
    assert response.status_code == 200
    data = response.json()
    assert data["encoding"] == "GSM-7" and data["ucs2_chars"] == []
    expected = [f"Hi {n} from Leeds" for n in "Ann Bob Cy Di Ed".split()]
    assert [s["text"].split("!")[0] for s in data["samples"]] == expected
    assert data["samples"][0]["phone"] == "+447911100000"
    assert data["segments"] == 2 and data["recipients"] == 7 and data["total_segments"] == 14
    assert data["capacity_per_s"] == 100
    assert data["estimated_duration"] == "under a minute"
    assert data["problems"] == []


def test_preview_says_which_characters_force_ucs2(marketer_client) -> None:
    account = AccountFactory()
    response = marketer_client.post(reverse(PREVIEW), {"body": "Don’t miss our sale 😀", "account": account.pk})
    data = response.json()
    assert data["encoding"] == "UCS-2"
    assert data["ucs2_chars"] == [{"char": "’", "code": "U+2019"}, {"char": "😀", "code": "U+1F600"}]
    assert data["samples"][0]["phone"] == "" and data["recipients"] == 0


def test_preview_estimates_duration_at_the_account_capacity_and_reports_template_problems(marketer_client) -> None:
    account = AccountFactory(binds=1, rate_per_bind=10)
    lst = _list_with([f"N{i}" for i in range(1200)])
    response = marketer_client.post(
        reverse(PREVIEW), {"body": "Sale {% if x %}", "account": account.pk, "recipient_lists": [lst.pk]}
    )
    data = response.json()
    assert data["total_segments"] == 1200 and data["estimated_seconds"] == 120
    assert data["estimated_duration"] == "about 2 min"
    assert data["problems"] and "not supported" in data["problems"][0]


def test_preview_is_post_only_and_closed_to_viewers(marketer_client, viewer_client) -> None:
    assert marketer_client.get(reverse(PREVIEW)).status_code == 405
    bad = marketer_client.post(reverse(PREVIEW), data="{nope", content_type="application/json")
    assert bad.status_code == 400
    as_json = marketer_client.post(reverse(PREVIEW), data={"body": "Hi"}, content_type="application/json")
    assert as_json.json()["encoding"] == "GSM-7"
    assert viewer_client.post(reverse(PREVIEW), {"body": "x"}).status_code == 403


def test_schedule_is_entered_in_the_campaign_time_zone(marketer_client) -> None:
    account = AccountFactory()
    lst = _list_with(["Ann"])
    data = {
        "name": "Winter sale",
        "channel": "sms",
        "account": account.pk,
        "sender": "",
        "body": "Hi {{ first_name }}",
        "mms_subject": "",
        "recipient_lists": [lst.pk],
        "scheduled_local": "2030-01-15T09:00",
        "timezone": "Europe/London",
        "send_rate": "",
        "quiet_hours_start": "",
        "quiet_hours_end": "",
        "validity_period": "",
        "media-TOTAL_FORMS": "0",
        "media-INITIAL_FORMS": "0",
    }
    response = marketer_client.post(reverse("admin:campaigns_campaign_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    campaign = Campaign.objects.get(name="Winter sale")
    assert campaign.scheduled_at == datetime(2030, 1, 15, 9, 0, tzinfo=UTC)
    summer = {**data, "name": "Summer sale", "scheduled_local": "2030-07-15T09:00"}
    marketer_client.post(reverse("admin:campaigns_campaign_add"), summer)
    assert Campaign.objects.get(name="Summer sale").scheduled_at == datetime(2030, 7, 15, 8, 0, tzinfo=UTC)
    gap = {**data, "name": "Nope", "scheduled_local": "2030-03-31T01:30"}
    response = marketer_client.post(reverse("admin:campaigns_campaign_add"), gap)
    assert response.status_code == 200 and "does not exist on that day" in response.content.decode()

    page = marketer_client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()
    assert 'value="2030-01-15T09:00"' in page
    response = _action(marketer_client, campaign, "schedule")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED


def test_marketer_sees_the_buttons_and_the_viewer_does_not(marketer_client, viewer_client) -> None:
    campaign = CampaignFactory()
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    page = marketer_client.get(url).content.decode()
    for name in ("send_now", "cancel", "test_send", "duplicate"):
        assert f"/action/{name}/" in page
    assert 'form="campaign_form" name="_schedule"' in page  # schedule submits the form: saved first
    assert 'id="cd-preview"' in page
    assert "/action/resume/" not in page  # not for a draft
    viewer_page = viewer_client.get(url)
    assert viewer_page.status_code == 200
    assert "/action/" not in viewer_page.content.decode()
    for name in ("send_now", "pause", "cancel", "test_send", "duplicate", "resend_failed"):
        assert _action(viewer_client, campaign, name).status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_send_now_pause_resume_cancel_through_the_services(marketer_client) -> None:
    campaign = CampaignFactory()
    campaign.recipient_lists.add(_list_with(["Ann", "Bob"]))
    response = _action(marketer_client, campaign, "send_now")
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.RUNNING
    assert Message.objects.filter(campaign=campaign).count() == 2
    _action(marketer_client, campaign, "pause")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PAUSED
    _action(marketer_client, campaign, "resume")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.RUNNING
    _action(marketer_client, campaign, "cancel")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED
    assert set(Message.objects.filter(campaign=campaign).values_list("status", flat=True)) == {"cancelled"}


def test_a_refusal_is_shown_with_the_service_message(marketer_client) -> None:
    campaign = CampaignFactory()  # a draft without lists
    response = _action(marketer_client, campaign, "send_now")
    assert response.status_code == 302
    page = marketer_client.get(response.url)
    assert "Choose at least one recipient list." in _messages(page)
    response = marketer_client.post(
        reverse("admin:campaigns_campaign_action", args=[campaign.pk, "resume"]), follow=True
    )
    assert "Cannot resume a campaign that is draft." in _messages(response)
    response = _action(marketer_client, campaign, "resend_failed")
    assert "No failed messages to resend." in _messages(marketer_client.get(response.url))


def test_test_send_duplicate_and_resend_failed_open_the_new_campaign(marketer_client) -> None:
    campaign = CampaignFactory(status=CampaignStatus.COMPLETED)
    MessageFactory(campaign=campaign, status=MessageStatus.UNDELIVERED, phone="+447911100001")
    response = _action(marketer_client, campaign, "test_send", phones="nope")
    assert "is not a valid phone number" in " ".join(_messages(marketer_client.get(response.url)))
    response = _action(marketer_client, campaign, "test_send", phones="+447911100009, +447911100008")
    test = Campaign.objects.get(is_test=True)
    assert response.url == reverse("admin:campaigns_campaign_change", args=[test.pk])
    assert test.status == CampaignStatus.RUNNING and test.messages.count() == 2
    response = _action(marketer_client, campaign, "duplicate")
    copy = Campaign.objects.get(name=f"{campaign.name} (copy)")
    assert response.url == reverse("admin:campaigns_campaign_change", args=[copy.pk])
    _action(marketer_client, campaign, "resend_failed")
    resend = Campaign.objects.get(resend_of=campaign)
    recipients = resend.recipient_lists.get()  # its own list, so the draft shows whom it sends to
    assert list(recipients.contacts.values_list("phone", flat=True)) == ["+447911100001"]
    assert not resend.messages.exists() and resend.materialised_at is None


def test_get_on_an_action_is_refused(marketer_client) -> None:
    campaign = CampaignFactory()
    url = reverse("admin:campaigns_campaign_action", args=[campaign.pk, "send_now"])
    assert marketer_client.get(url).status_code == 405


def test_a_running_campaign_is_read_only_and_polls_its_progress(marketer_client) -> None:
    campaign = CampaignFactory(status=CampaignStatus.RUNNING)
    for status in ("delivered", "delivered", "accepted", "pending", "suppressed"):
        MessageFactory(campaign=campaign, status=status)
    page = marketer_client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()
    assert 'name="body"' not in page  # locked while it runs
    assert "data-progress-url" in page and "/action/pause/" in page
    data = marketer_client.get(reverse("admin:campaigns_campaign_progress", args=[campaign.pk])).json()
    assert (data["total"], data["sendable"], data["sent"], data["delivered"]) == (5, 4, 3, 2)
    assert data["sent_pct"] == 75.0 and data["delivered_pct"] == 50.0 and data["live"] is True


def test_changelist_shows_progress_bars_from_one_query(marketer_client, django_assert_max_num_queries) -> None:
    for _ in range(3):
        campaign = CampaignFactory(status=CampaignStatus.COMPLETED)
        MessageFactory(campaign=campaign, status="delivered")
        MessageFactory(campaign=campaign, status="undelivered")
    with django_assert_max_num_queries(12):
        page = marketer_client.get(reverse("admin:campaigns_campaign_changelist")).content.decode()
    assert page.count('class="cd-progress"') == 3
    assert "2 / 2 (100.0 %)" in page and "1 / 2 (50.0 %)" in page
    ids = "&".join(f"id={c.pk}" for c in Campaign.objects.all())
    data = marketer_client.get(reverse("admin:campaigns_campaign_progress_list") + "?" + ids).json()
    assert {v["delivered"] for v in data.values()} == {1}
