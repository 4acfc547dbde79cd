"""MMS media uploaded in the campaign builder's inline: the same checks as the API (type from
the bytes, whole container, size limit), the type and size read from the file rather than
typed in, and the file stored under the proven type's extension."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns.models import CampaignMedia, Channel
from tests.factories import AccountFactory, CampaignFactory, RecipientListFactory
from tests.media_samples import jpeg, png

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _post(client, campaign, *uploads: tuple[str, bytes, str], **overrides):
    data = {
        "name": campaign.name,
        "channel": campaign.channel,
        "account": campaign.account_id,
        "sender": "",
        "body": campaign.body,
        "mms_subject": "Sale",
        "recipient_lists": [RecipientListFactory().pk],
        "scheduled_local": "",
        "timezone": "UTC",
        "send_rate": "",
        "quiet_hours_start": "",
        "quiet_hours_end": "",
        "validity_period": "",
        "media-TOTAL_FORMS": str(len(uploads)),
        "media-INITIAL_FORMS": "0",
        "_continue": "1",
    }
    for i, (name, content, declared) in enumerate(uploads):
        data[f"media-{i}-file"] = SimpleUploadedFile(name, content, declared)
        data[f"media-{i}-position"] = str(i + 1)
        data[f"media-{i}-content_type"] = "image/png"  # typed in by hand: must be ignored
        data[f"media-{i}-size"] = "1"
    data.update(overrides)
    return client.post(reverse("admin:campaigns_campaign_change", args=[campaign.pk]), data)


def _mms():
    return CampaignFactory(channel=Channel.MMS, body="Look", account=AccountFactory(mm4_host="mmsc.example.net"))


def test_a_png_named_html_is_stored_as_png_with_type_and_size_from_its_bytes(marketer_client, tmp_path) -> None:
    campaign = _mms()
    response = _post(marketer_client, campaign, ("evil.html", png(500), "text/html"))
    assert response.status_code == 302, response.content.decode()[:3000]
    media = CampaignMedia.objects.get(campaign=campaign)
    assert (media.content_type, media.size) == ("image/png", 500)
    assert media.file.name.endswith("/evil.png") and not list(tmp_path.rglob("*.html"))


def test_html_or_a_broken_image_is_refused_naming_the_file(marketer_client) -> None:
    campaign = _mms()
    page = _post(marketer_client, campaign, ("page.html", b"<html><script>x()</script></html>", "image/png"))
    assert page.status_code == 200 and "&quot;page.html&quot; does not look like a PNG image" in page.content.decode()
    cut = _post(marketer_client, campaign, ("cut.jpg", jpeg(300)[:-2], "image/jpeg"))
    assert "&quot;cut.jpg&quot; is not a whole JPEG image" in cut.content.decode()
    assert not CampaignMedia.objects.exists()


def test_the_size_limit_counts_every_file_of_the_form(marketer_client, settings) -> None:
    settings.MMS_MAX_BYTES = 1200
    campaign = _mms()  # text and subject: 8 bytes
    response = _post(marketer_client, campaign, ("a.png", png(700), "image/png"), ("b.jpg", jpeg(700), "image/jpeg"))
    assert response.status_code == 200
    assert "This MMS would be 1.4 KB including the text; the limit is 1.2 KB." in response.content.decode()
    assert not CampaignMedia.objects.exists()


def test_an_sms_campaign_takes_no_media(marketer_client) -> None:
    response = _post(marketer_client, _mms(), ("a.png", png(), "image/png"), channel="sms")  # switched to SMS
    assert response.status_code == 200 and "Only MMS campaigns carry media." in response.content.decode()
    assert not CampaignMedia.objects.exists()
