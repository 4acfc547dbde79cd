"""MMS media served (no 404) with a thumbnail and locked once sent; the CSV mapping's
country picker; "Build a campaign" preselecting the list and account."""

from __future__ import annotations

import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from campaigns.models import CampaignMedia, CampaignStatus, Channel, ImportJob
from tests.factories import AccountFactory, CampaignFactory, RecipientListFactory
from tests.media_samples import png

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _media(status=CampaignStatus.DRAFT) -> CampaignMedia:
    campaign = CampaignFactory(channel=Channel.MMS, status=status, account=AccountFactory(mm4_host="mmsc.example"))
    media = CampaignMedia(campaign=campaign, content_type="image/png", size=200, position=1)
    media.file.save("pic.png", ContentFile(png(200)), save=True)
    return media


def test_the_stored_picture_is_served_to_people_who_may_see_campaigns(marketer_client) -> None:
    media = _media()
    response = marketer_client.get(media.file.url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff" and b"".join(response.streaming_content) == png(200)
    assert marketer_client.get("/media/mms/nothing-here.png").status_code == 404
    assert marketer_client.get("/media/../config/settings.py").status_code == 404
    anonymous = Client().get(media.file.url)
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous.url


def test_the_campaign_page_shows_a_thumbnail(marketer_client) -> None:
    media = _media()
    page = marketer_client.get(reverse("admin:campaigns_campaign_change", args=[media.campaign_id])).content.decode()
    assert f'<img class="cd-thumb" src="{media.file.url}"' in page


def test_media_of_a_completed_campaign_are_not_editable(marketer_client) -> None:
    media = _media(CampaignStatus.COMPLETED)
    page = marketer_client.get(reverse("admin:campaigns_campaign_change", args=[media.campaign_id])).content.decode()
    assert 'type="file"' not in page and 'name="media-0-DELETE"' not in page
    assert 'name="media-MAX_NUM_FORMS" value="0"' in page  # nothing to add
    assert f'src="{media.file.url}"' in page  # still shown


def test_an_sms_campaign_has_no_mms_fields(marketer_client) -> None:
    campaign = CampaignFactory(channel=Channel.SMS)
    page = marketer_client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()
    assert "mms_subject" not in page and "media-TOTAL_FORMS" not in page
    add = marketer_client.get(reverse("admin:campaigns_campaign_add")).content.decode()
    assert "MMS subject" in add and "channel_fields.js" in add  # toggled by the channel picker


def test_mapping_offers_countries_by_name_with_the_default_region(marketer_client, settings) -> None:
    settings.PHONE_DEFAULT_REGION = "GB"
    lst = RecipientListFactory()
    marketer_client.post(
        reverse("admin:campaigns_recipientlist_import", args=[lst.pk]),
        {"file": SimpleUploadedFile("c.csv", b"Mobile,Name,Town\n07400100001,Ann,Leeds\n", content_type="text/csv")},
    )
    job = ImportJob.objects.get()
    page = marketer_client.get(reverse("admin:campaigns_importjob_mapping", args=[job.pk])).content.decode()
    assert '<option value="GB" selected>United Kingdom (GB)</option>' in page
    assert '<option value="DE">Germany (DE)</option>' in page
    assert "import_mapping.js" in page  # hides the mapped columns from the extras


def test_build_a_campaign_from_a_list_preselects_it_and_its_account(marketer_client) -> None:
    lst = RecipientListFactory()
    account = AccountFactory()
    page = marketer_client.get(reverse("admin:campaigns_recipientlist_change", args=[lst.pk])).content.decode()
    url = reverse("admin:campaigns_campaign_add") + f"?recipient_lists={lst.pk}&amp;account={account.pk}"
    assert url in page  # the only active account
    builder = marketer_client.get(
        reverse("admin:campaigns_campaign_add"), {"recipient_lists": lst.pk, "account": account.pk}
    ).content.decode()
    assert re.search(rf'name="recipient_lists" value="{lst.pk}"[^>]* checked', builder)
    assert f'value="{account.pk}" selected' in builder
