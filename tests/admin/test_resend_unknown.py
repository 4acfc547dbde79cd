"""The admin's "Resend to failed" button and its opt-in "also to unknown" box."""

from __future__ import annotations

import pytest
from django.urls import reverse

from campaigns.models import Campaign
from campaigns.services.resend import UNKNOWN_RISK
from campaigns.statuses import S
from tests.campaigns.resend_unknown_setup import FAILED, UNKNOWN, finished_with_failed_and_unknown, list_phones

pytestmark = pytest.mark.django_db


def _resend(client, campaign: Campaign, **data):
    return client.post(reverse("admin:campaigns_campaign_action", args=[campaign.pk, "resend_failed"]), data)


def test_the_box_is_labelled_off_by_default_and_adds_the_unknown(marketer_client, settings) -> None:
    original = finished_with_failed_and_unknown(settings)
    page = marketer_client.get(reverse("admin:campaigns_campaign_change", args=[original.pk])).content.decode()
    start = page.index('data-action="resend_failed"')
    box = page[start : page.index("</form>", start)]
    assert 'type="checkbox" name="include_unknown" value="1"' in box and "checked" not in box
    assert "also to unknown (no receipt by the deadline): may send twice" in box
    assert UNKNOWN_RISK in box

    _resend(marketer_client, original)  # the box left unticked
    plain = Campaign.objects.get(name="Autumn sale (resend to failed)")
    assert list_phones(plain) == [FAILED]

    response = _resend(marketer_client, original, include_unknown="1")
    wider = Campaign.objects.get(name="Autumn sale (resend to failed and unknown)")
    assert response.url == reverse("admin:campaigns_campaign_change", args=[wider.pk])
    assert list_phones(wider) == [FAILED, UNKNOWN]
    marketer_client.post(reverse("admin:campaigns_campaign_action", args=[wider.pk, "send_now"]))
    assert dict(wider.messages.values_list("phone", "status")) == {FAILED: S.PENDING, UNKNOWN: S.PENDING}


def test_a_viewer_can_neither_see_nor_use_it(viewer_client, settings) -> None:
    original = finished_with_failed_and_unknown(settings)
    page = viewer_client.get(reverse("admin:campaigns_campaign_change", args=[original.pk])).content.decode()
    assert "include_unknown" not in page
    assert _resend(viewer_client, original, include_unknown="1").status_code == 403
    assert not Campaign.objects.filter(resend_of=original).exists()
