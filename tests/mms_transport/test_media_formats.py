"""campaigns/services/media_formats.py and its use at upload: a file is named from the type
its bytes prove, and its whole container is checked where that is cheap (PNG chunks to
IEND, JPEG EOI, GIF trailer, MP4 top-level boxes, AMR frames). Golden vectors for the
names and the refusals, properties for truncation and appended data, and the upload paths
(service and API) end to end with the stored file on disk.
"""

from __future__ import annotations

import struct

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import example, given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from campaigns.errors import ApplicationError
from campaigns.models import CampaignMedia, Channel
from campaigns.services import mms
from campaigns.services.media_formats import container_problem, sniff_content_type, stored_name
from tests.api.factories import TokenFactory, UserFactory
from tests.factories import CampaignFactory
from tests.media_samples import amr, gif, jpeg, mp3, mp4, png, png_chunk

WHOLE = {
    "image/png": png(),
    "image/jpeg": jpeg(),
    "image/gif": gif(),
    "audio/amr": amr(),
    "video/mp4": mp4(),
    "video/3gpp": mp4(b"3gp5"),
}
HTML = b"<html><script>alert(document.cookie)</script></html>"


@pytest.mark.parametrize(
    ("name", "content_type", "stored"),
    [
        ("evil.html", "image/png", "evil.png"),
        ("photo.JPG", "image/jpeg", "photo.jpg"),
        ("evil.html.png", "image/png", "evil-html.png"),
        ("../../etc/passwd", "image/gif", "passwd.gif"),
        ("C:\\Users\\ann\\clip.mov", "video/mp4", "clip.mp4"),
        ("noext", "audio/amr", "noext.amr"),
        ("a b;c<script>.3gp", "video/3gpp", "a-b-c-script.3gp"),
        ("", "audio/mpeg", "media.mp3"),
        (".png", "image/png", "png.png"),
        ("été à Paris.gif", "image/gif", "été-à-Paris.gif"),
        ("x" * 200 + ".png", "image/png", "x" * 60 + ".png"),
    ],
)
def test_the_stored_name_takes_its_extension_from_the_type(name, content_type, stored) -> None:
    assert stored_name(name, content_type) == stored


@pytest.mark.parametrize("content_type", sorted(WHOLE))
def test_whole_files_pass_and_are_recognised(content_type) -> None:
    data = WHOLE[content_type]
    assert sniff_content_type(data) == content_type
    assert container_problem(content_type, data) is None


@pytest.mark.parametrize(
    ("content_type", "data", "problem"),
    [
        ("image/png", png() + HTML, f"{len(HTML)} bytes follow its IEND chunk"),
        ("image/png", png()[:-12], "it has no IEND chunk (the file is cut short)"),
        ("image/png", png()[:50], "its IDAT chunk runs past the end of the file (the file is cut short)"),
        ("image/png", png()[:8] + png_chunk(b"IDAT", b"x") + png()[8:], "it does not start with an IHDR chunk"),
        ("image/png", png()[:-1] + bytes([png()[-1] ^ 1]), "its IEND chunk is damaged (wrong CRC)"),
        (
            "image/jpeg",
            jpeg() + HTML,
            "it does not end with the JPEG end marker FF D9 (the file is cut short or has data appended)",
        ),
        (
            "image/jpeg",
            jpeg()[:-1],
            "it does not end with the JPEG end marker FF D9 (the file is cut short or has data appended)",
        ),
        (
            "image/gif",
            gif()[:-1],
            "it does not end with the GIF trailer 0x3B (the file is cut short or has data appended)",
        ),
        (
            "image/gif",
            gif() + HTML,
            "it does not end with the GIF trailer 0x3B (the file is cut short or has data appended)",
        ),
        (
            "video/mp4",
            mp4() + HTML,
            "its l><s box at byte 48 runs past the end of the file (the file is cut short or has data appended)",
        ),
        (
            "video/mp4",
            mp4() + b"\x00\x00\x00\x09\x00ftyp\x00",
            "the box at byte 48 has no valid type (this is not an MP4 box structure)",
        ),
        ("video/mp4", mp4()[:-3], "it ends inside a box header at byte 40 (the file is cut short)"),
        ("video/mp4", mp4()[:40], "it has no moov box (no movie header)"),
        ("video/mp4", mp4()[24:40] + mp4()[:24] + mp4()[40:], "it does not start with an ftyp box"),
        ("video/mp4", mp4() + struct.pack(">I", 4) + b"free", "its free box at byte 48 has an impossible size (4)"),
        (
            "video/3gpp",
            mp4(b"3gp5") + struct.pack(">I", 1) + b"mdat" + struct.pack(">Q", 10**9),
            "its mdat box at byte 48 runs past the end of the file (the file is cut short or has data appended)",
        ),
        ("audio/amr", amr()[:-1], "its last frame is cut short"),
        ("audio/amr", amr() + b"\x6c", "the frame at byte 102 has a frame type a file does not use (13)"),
        ("audio/amr", b"#!AMR_MC1.0\n" + b"\x00" * 8, "it is not single-channel AMR or AMR-WB (#!AMR or #!AMR-WB)"),
    ],
)
def test_broken_or_padded_containers_are_refused_saying_why(content_type, data, problem) -> None:
    assert container_problem(content_type, data) == problem


def test_mp4_boxes_of_64_bit_and_to_the_end_sizes_are_walked() -> None:
    large = struct.pack(">I", 1) + b"free" + struct.pack(">Q", 24) + b"\x00" * 8
    to_end = struct.pack(">I", 0) + b"mdat" + b"\x00" * 100
    assert container_problem("video/mp4", mp4() + large + to_end) is None


def test_mp3_has_no_cheap_check_and_passes_on_its_header() -> None:
    assert container_problem("audio/mpeg", mp3() + HTML) is None


@given(cut=st.integers(min_value=1, max_value=len(png()) - 1))
def test_any_truncated_png_is_refused(cut: int) -> None:
    assert container_problem("image/png", png()[:cut]) is not None


@given(cut=st.integers(min_value=1, max_value=len(mp4()) - 1))
def test_any_truncated_mp4_is_refused(cut: int) -> None:
    assert container_problem("video/mp4", mp4()[:cut]) is not None


@given(tail=st.binary(min_size=1, max_size=200))
@example(tail=HTML)
def test_any_data_after_a_png_is_refused(tail: bytes) -> None:
    assert container_problem("image/png", png() + tail) is not None


@given(tail=st.binary(min_size=1, max_size=200).filter(lambda t: not t.rstrip(b"\x00").endswith(b"\xff\xd9")))
def test_data_after_a_jpeg_is_refused_unless_it_ends_like_one(tail: bytes) -> None:
    data = jpeg() + tail
    assert (container_problem("image/jpeg", data) is None) == (tail.strip(b"\x00") == b"")


# -- at upload ------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _mms():
    return CampaignFactory(channel=Channel.MMS, body="Look")


@pytest.mark.django_db
def test_a_png_named_html_is_stored_as_png(tmp_path) -> None:
    media = mms.add_media(campaign=_mms(), file=ContentFile(png(), name="evil.html"), declared_type="text/html")
    assert media.content_type == "image/png"
    assert media.file.name.endswith("/evil.png") and (tmp_path / media.file.name).read_bytes() == png()
    assert not list(tmp_path.rglob("*.html"))


@pytest.mark.django_db
def test_a_polyglot_or_truncated_upload_is_refused_naming_the_file() -> None:
    campaign = _mms()
    with pytest.raises(ApplicationError) as caught:
        mms.add_media(campaign=campaign, file=ContentFile(png() + HTML, name="cat.png"))
    assert caught.value.message == f'"cat.png" is not a whole PNG image: {len(HTML)} bytes follow its IEND chunk.'
    assert (caught.value.field, caught.value.code) == ("media", "media_type")
    with pytest.raises(ApplicationError, match=r'^"clip.mp4" is not a whole MP4 video: it ends inside a box header'):
        mms.add_media(campaign=campaign, file=ContentFile(mp4()[:-1], name="clip.mp4"))
    assert not CampaignMedia.objects.exists()


@pytest.mark.django_db
def test_the_api_stores_the_sniffed_type_and_refuses_a_broken_file() -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {TokenFactory(user=UserFactory(role='marketer')).key}")
    url = f"/api/v1/campaigns/{_mms().id}/media/"
    added = client.post(url, {"file": SimpleUploadedFile("page.html", gif(), "text/html")}, format="multipart")
    assert added.status_code == 201, added.json()
    assert (added.json()["name"], added.json()["content_type"]) == ("page.gif", "image/gif")
    assert CampaignMedia.objects.get().file.name.endswith("/page.gif")
    cut = client.post(url, {"file": SimpleUploadedFile("cut.jpg", jpeg()[:-2], "image/jpeg")}, format="multipart")
    assert cut.status_code == 400
    assert cut.json()["errors"] == [
        {
            "field": "media",
            "code": "media_type",
            "message": (
                '"cut.jpg" is not a whole JPEG image: it does not end with the JPEG end marker FF D9 '
                "(the file is cut short or has data appended)."
            ),
        }
    ]
