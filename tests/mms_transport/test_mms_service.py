"""campaigns/services/mms.py: media checked at upload, the sender's content, the preview, and the
account's MM4 settings (its key never in a repr). (Kept under tests/mms_transport/ with the rest
of the MMS work.)"""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile

from campaigns.errors import ApplicationError
from campaigns.models import Account, CampaignMedia, Channel
from campaigns.services import mms
from campaigns.services import transport_api as api
from tests.factories import AccountFactory, CampaignFactory
from tests.media_samples import amr, gif, jpeg, mp3, mp4, png

pytestmark = pytest.mark.django_db

PNG, JPEG, GIF, AMR, MP3 = png(108), jpeg(104), gif(), amr(), mp3()
MP4, GP3 = mp4(), mp4(b"3gp5")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def mms_campaign(**fields):
    return CampaignFactory(channel=Channel.MMS, body="Hi {{ first_name }}", mms_subject="Sale", **fields)


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (PNG, "a.png", "image/png"),
        (JPEG, "a.jpg", "image/jpeg"),
        (GIF, "a.gif", "image/gif"),
        (AMR, "a.amr", "audio/amr"),
        (MP3, "a.mp3", "audio/mpeg"),
        (MP4, "a.mp4", "video/mp4"),
        (GP3, "a.3gp", "video/3gpp"),
        (PNG, "mislabelled.jpg", "image/png"),
    ],
)
def test_allowed_media_are_recognised_by_their_content(data, name, expected) -> None:
    media = mms.add_media(campaign=mms_campaign(), file=ContentFile(data, name=name))
    assert (media.content_type, media.size, media.position) == (expected, len(data), 1)
    assert media.file.read() == data


def test_a_type_an_mms_cannot_carry_is_refused_naming_the_file() -> None:
    with pytest.raises(ApplicationError) as caught:
        mms.add_media(
            campaign=mms_campaign(), file=ContentFile(b"BM\x00\x00", name="logo.bmp"), declared_type="image/bmp"
        )
    assert caught.value.message.startswith('"logo.bmp" is image/bmp; an MMS can carry: JPEG image, PNG image')
    assert caught.value.field == "media" and CampaignMedia.objects.count() == 0


def test_content_that_does_not_match_its_label_is_refused() -> None:
    with pytest.raises(ApplicationError, match='"fake.png" does not look like a PNG image'):
        mms.add_media(campaign=mms_campaign(), file=ContentFile(b"not an image at all", name="fake.png"))


def test_the_total_size_counts_media_text_and_subject_against_the_limit(settings) -> None:
    settings.MMS_MAX_BYTES = 2048
    campaign = mms_campaign()  # body + subject = 22 bytes
    mms.add_media(campaign=campaign, file=ContentFile(png(1008), name="one.png"))
    with pytest.raises(ApplicationError) as caught:
        mms.add_media(campaign=campaign, file=ContentFile(jpeg(1104), name="two.jpg"))
    assert caught.value.message == (
        '"two.jpg" (1.1 KB) would make this MMS 2.1 KB including the text; the limit is 2 KB.'
    )
    assert caught.value.code == "media_too_large"
    mms.add_media(campaign=campaign, file=ContentFile(GIF, name="small.gif"))  # what fits still fits
    assert list(campaign.media.values_list("position", flat=True)) == [1, 2]


def test_the_default_limit_is_600_kb() -> None:
    assert mms.max_bytes() == 600 * 1024
    campaign = mms_campaign()
    with pytest.raises(ApplicationError, match="the limit is 600 KB"):
        mms.add_media(campaign=campaign, file=ContentFile(jpeg(104 + 600 * 1024), name="huge.jpg"))
    just_over = 600 * 1024 - mms.text_bytes(campaign) + 1
    with pytest.raises(ApplicationError, match=r"MMS 614,401 bytes including the text; the limit is 614,400 bytes"):
        mms.add_media(campaign=campaign, file=ContentFile(jpeg(just_over), name="edge.jpg"))


def test_sms_campaigns_carry_no_media() -> None:
    with pytest.raises(ApplicationError, match="Only MMS campaigns carry media"):
        mms.add_media(campaign=CampaignFactory(), file=ContentFile(PNG, name="a.png"))


def test_content_for_the_sender_and_the_preview() -> None:
    campaign = mms_campaign()
    mms.add_media(campaign=campaign, file=ContentFile(PNG, name="photo.png"))
    mms.add_media(campaign=campaign, file=ContentFile(AMR, name="jingle.amr"))
    content = api.mms_content(campaign_id=campaign.id)
    assert content.subject == "Sale"
    assert [(m.name, m.content_type, m.data) for m in content.media] == [
        ("photo.png", "image/png", PNG),
        ("jingle.amr", "audio/amr", AMR),
    ]
    assert "data=" not in repr(content.media[0])  # no megabytes in a log line
    preview = mms.mms_preview(campaign=campaign)
    assert [(p.kind, p.name, p.size) for p in preview.parts] == [
        ("subject", "Subject", 4),
        ("image", "photo.png", len(PNG)),
        ("audio", "jingle.amr", len(AMR)),
        ("text", "Text", len("Hi {{ first_name }}")),
    ]
    assert preview.total_bytes == 4 + len(PNG) + len(AMR) + 19 and preview.within_limit


def test_validate_mms_for_sending() -> None:
    campaign = mms_campaign(account=AccountFactory(mm4_host="mmsc.example.net"))
    mms.validate_mms_for_sending(campaign)
    campaign.body = ""
    with pytest.raises(ApplicationError, match="needs a text or at least one media file"):
        mms.validate_mms_for_sending(campaign)
    mms.add_media(campaign=campaign, file=ContentFile(PNG, name="p.png"))
    mms.validate_mms_for_sending(campaign)
    Account.objects.filter(id=campaign.account_id).update(mm4_stopped_reason="MM4 login refused: 535")
    campaign.account.refresh_from_db()
    mms.validate_mms_for_sending(campaign)  # a stopped account does not block starting: messages wait


def test_account_settings_keep_the_key_out_of_repr_and_stop_records_why(monkeypatch) -> None:
    monkeypatch.setattr(django_settings, "MM4_TLS_CA_FILE", "")
    account = AccountFactory(
        mm4_host="mmsc.example.net",
        mm4_api_key="sekrit-key",
        mm4_originator_domain="",
        smpp_tls_ca_file="/etc/provider-ca.pem",
        mms_rate=7,
    )
    settings = api.mm4_account_settings(system_id=account.system_id)
    assert settings.api_key == "sekrit-key" and "sekrit-key" not in repr(settings)
    assert settings.originator_domain == "mmsc.example.net"  # falls back to the MM4 host
    assert settings.tls_ca_file == "/etc/provider-ca.pem" and settings.mms_rate == 7
    monkeypatch.setattr(django_settings, "MM4_TLS_CA_FILE", "/etc/mm4-ca.pem")
    assert api.mm4_account_settings(system_id=account.system_id).tls_ca_file == "/etc/mm4-ca.pem"
    api.stop_account_mm4(system_id=account.system_id, reason="MM4 login refused: " + "x" * 400)
    account.refresh_from_db()
    assert account.mm4_stopped_reason.startswith("MM4 login refused") and len(account.mm4_stopped_reason) == 255


def test_accounts_are_found_by_their_originator_domain_only_when_unique() -> None:
    one = AccountFactory(mm4_originator_domain="mms.one.example")
    AccountFactory(mm4_originator_domain="mms.shared.example")
    AccountFactory(mm4_originator_domain="mms.shared.example")
    assert api.mm4_account_for_domain(domain="MMS.one.example") == one.id
    assert api.mm4_account_for_domain(domain="mms.shared.example") is None
    assert api.mm4_account_for_domain(domain="nobody.example") is None


def test_check_upload_serves_every_upload_path_and_allows_replacing_a_file(settings) -> None:
    settings.MMS_MAX_BYTES = 1024
    campaign = mms_campaign()
    first = mms.add_media(campaign=campaign, file=ContentFile(png(908), name="one.png"))
    replacement = ContentFile(jpeg(904), name="two.jpg")
    with pytest.raises(ApplicationError, match="the limit is 1 KB"):
        mms.check_upload(campaign=campaign, file=replacement)  # as an extra file it does not fit
    assert mms.check_upload(campaign=campaign, file=replacement, exclude_id=first.id) == ("image/jpeg", 904)
