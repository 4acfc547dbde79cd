"""Contacts in bulk (JSON and CSV upload) and MMS media, through the same services as the admin."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from campaigns.models import CampaignMedia, CampaignStatus, Channel, Contact
from tests.factories import CampaignFactory, ContactFactory, RecipientListFactory
from tests.media_samples import png

pytestmark = pytest.mark.django_db

PNG = png()


def _csv(text: str, name: str = "contacts.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def test_bulk_add_keeps_good_rows_and_explains_the_bad(marketer: APIClient) -> None:
    recipient_list = RecipientListFactory()
    ContactFactory(recipient_list=recipient_list, phone="+447911100003")
    rows = [
        {"phone": "+44 7911 100001", "first_name": "Ann", "attributes": {"city": "Leeds"}},
        {"phone": "not a number"},
        {"phone": "+447911100001"},
        {"phone": "+447911100003"},
        {"phone": "+447911100002", "last_name": "Lee"},
    ]
    response = marketer.post(f"/api/v1/lists/{recipient_list.id}/contacts/", {"contacts": rows})
    assert response.status_code == 200, response.json()
    report = response.json()
    assert {k: report[k] for k in ("rows", "imported", "duplicates", "rejected")} == {
        "rows": 5,
        "imported": 2,
        "duplicates": 2,
        "rejected": 1,
    }
    assert [r["row"] for r in report["rejected_rows"]] == [2]
    assert report["rejected_rows"][0]["reason"]
    ann = Contact.objects.get(recipient_list=recipient_list, phone="+447911100001")
    assert (ann.first_name, ann.attributes) == ("Ann", {"city": "Leeds"})


def test_bulk_add_refuses_a_row_with_a_bad_field_alone(marketer: APIClient) -> None:
    """docs/api.md: good rows are kept. A bad attribute (or name, or unknown key) in one row
    used to reject the whole request with a 400; now that row alone is refused, saying why."""
    recipient_list = RecipientListFactory()
    rows = [
        {"phone": "+447911100001", "first_name": "Ann"},
        {"phone": "+447911100002", "attributes": {"city": "x" * 501}},
        {"phone": "+447911100003", "first_name": "x" * 101},
        {"phone": "+447911100004", "nickname": "Bo"},
        {"phone": 447911100005},
        "+447911100006",
        {"phone": "+447911100007", "attributes": {"n": [1, 2]}},
        {"phone": "+447911100008", "last_name": "Lee", "attributes": {"city": "Hull"}},
    ]
    response = marketer.post(f"/api/v1/lists/{recipient_list.id}/contacts/", {"contacts": rows})
    assert response.status_code == 200, response.json()
    report = response.json()
    assert (report["rows"], report["imported"], report["rejected"]) == (8, 2, 6)
    reasons = {r["row"]: r["reason"] for r in report["rejected_rows"]}
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7]
    assert reasons[2].startswith("attributes: ") and "500 characters" in reasons[2]
    assert reasons[3].startswith("first_name: ") and "100 characters" in reasons[3]
    assert reasons[4] == "nickname: Unknown or read-only field."
    assert reasons[5].startswith("phone: ")
    assert "dictionary" in reasons[6] or "object" in reasons[6]
    assert reasons[7].startswith("attributes: ")
    kept = dict(Contact.objects.filter(recipient_list=recipient_list).values_list("phone", "last_name"))
    assert kept == {"+447911100001": "", "+447911100008": "Lee"}


def test_csv_upload_with_a_mapping(marketer: APIClient) -> None:
    recipient_list = RecipientListFactory()
    upload = _csv("Mobile,Given,Town\n+447911100001,Ann,Leeds\nnope,Bob,York\n+447911100002,Cy,Hull\n")
    response = marketer.post(
        f"/api/v1/lists/{recipient_list.id}/import/",
        {"file": upload, "mapping": '{"phone": "Mobile", "first_name": "Given", "attributes": {"city": "Town"}}'},
        format="multipart",
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["imported"], response.json()["rejected"]) == (2, 1)
    assert response.json()["rejected_rows"][0]["row"] == 3  # the header is row 1
    contact = Contact.objects.get(recipient_list=recipient_list, phone="+447911100002")
    assert (contact.first_name, contact.attributes) == ("Cy", {"city": "Hull"})


def test_csv_upload_guesses_the_columns_without_a_mapping(marketer: APIClient) -> None:
    recipient_list = RecipientListFactory()
    upload = _csv("phone,first_name\n+447911100001,Ann\n")
    response = marketer.post(f"/api/v1/lists/{recipient_list.id}/import/", {"file": upload}, format="multipart")
    assert response.status_code == 200, response.json()
    assert Contact.objects.get(recipient_list=recipient_list).first_name == "Ann"


def test_csv_upload_errors_name_the_field(marketer: APIClient) -> None:
    recipient_list = RecipientListFactory()
    url = f"/api/v1/lists/{recipient_list.id}/import/"
    no_file = marketer.post(url, {"mapping": "{}"}, format="multipart")
    assert no_file.status_code == 400 and no_file.json()["errors"][0]["field"] == "file"
    bad_mapping = marketer.post(url, {"file": _csv("a\n1\n"), "mapping": "[1]"}, format="multipart")
    assert bad_mapping.status_code == 400 and bad_mapping.json()["errors"][0]["field"] == "mapping"
    unknown_column = marketer.post(url, {"file": _csv("a\n1\n"), "mapping": '{"phone": "Mobile"}'}, format="multipart")
    assert unknown_column.status_code == 400
    assert unknown_column.json()["errors"][0] | {"message": ""} == {
        "field": "mapping",
        "code": "unknown_column",
        "message": "",
    }
    as_json = marketer.post(url, {"file": "x"})
    assert as_json.status_code == 415
    assert not Contact.objects.exists()


def test_csv_upload_is_bounded_per_line_and_keeps_the_good_rows(marketer: APIClient, settings) -> None:
    settings.IMPORT_MAX_LINE_CHARS = 4096
    recipient_list = RecipientListFactory()
    wide = "+447911100002" + ",x" * 300  # more fields than the default IMPORT_MAX_FIELDS
    upload = _csv(
        f"phone,first_name,notes\n+447911100001,Ann,ok\n+447911100009,{'N' * 50_000},x\n{wide}\n"
        f"+447911100003,{'N' * 101},x\n+447911100004,Bo,{'n' * 501}\n+447911100005,Cy,ok\n"
    )
    response = marketer.post(f"/api/v1/lists/{recipient_list.id}/import/", {"file": upload}, format="multipart")
    assert response.status_code == 200, response.json()
    report = response.json()
    assert (report["imported"], report["rejected"]) == (2, 4)
    reasons = {r["row"]: r["reason"] for r in report["rejected_rows"]}
    assert "longer than 4096 characters" in reasons[3]
    assert "301 fields" in reasons[4]
    assert reasons[5] == "the first name is longer than 100 characters"
    assert reasons[6] == "column 'notes' (attribute notes) is longer than 500 characters"
    assert set(Contact.objects.filter(recipient_list=recipient_list).values_list("phone", flat=True)) == {
        "+447911100001",
        "+447911100005",
    }


def test_media_of_an_mms_campaign(marketer: APIClient) -> None:
    campaign = CampaignFactory(channel=Channel.MMS, body="Look")
    url = f"/api/v1/campaigns/{campaign.id}/media/"
    added = marketer.post(url, {"file": SimpleUploadedFile("pic.png", PNG, "image/png")}, format="multipart")
    assert added.status_code == 201, added.json()
    assert added.json() | {"id": 0} == {
        "id": 0,
        "name": "pic.png",
        "content_type": "image/png",
        "size": len(PNG),
        "position": 1,
    }
    listed = marketer.get(url).json()
    assert [m["id"] for m in listed["results"]] == [added.json()["id"]]
    assert marketer.delete(f"{url}{added.json()['id']}/").status_code == 204
    assert not CampaignMedia.objects.exists()


def test_media_refusals_say_why(marketer: APIClient, settings) -> None:
    mms = CampaignFactory(channel=Channel.MMS, body="Look")
    url = f"/api/v1/campaigns/{mms.id}/media/"
    text = marketer.post(url, {"file": SimpleUploadedFile("a.txt", b"hello", "text/plain")}, format="multipart")
    assert text.status_code == 400 and text.json()["errors"][0]["code"] == "media_type"
    settings.MMS_MAX_BYTES = 50
    big = marketer.post(url, {"file": SimpleUploadedFile("pic.png", PNG, "image/png")}, format="multipart")
    assert big.status_code == 400 and big.json()["errors"][0]["code"] == "media_too_large"
    sms = CampaignFactory()
    not_mms = marketer.post(
        f"/api/v1/campaigns/{sms.id}/media/", {"file": SimpleUploadedFile("p.png", PNG)}, format="multipart"
    )
    assert not_mms.status_code == 400 and not_mms.json()["errors"][0]["code"] == "not_mms"
    running = CampaignFactory(channel=Channel.MMS, status=CampaignStatus.RUNNING)
    late = marketer.post(
        f"/api/v1/campaigns/{running.id}/media/", {"file": SimpleUploadedFile("p.png", PNG)}, format="multipart"
    )
    assert late.status_code == 409
    assert marketer.get("/api/v1/campaigns/424242/media/").status_code == 404
    assert not CampaignMedia.objects.exists()


def test_viewer_cannot_touch_media(viewer: APIClient) -> None:
    campaign = CampaignFactory(channel=Channel.MMS)
    url = f"/api/v1/campaigns/{campaign.id}/media/"
    assert viewer.get(url).status_code == 403
    assert viewer.post(url, {"file": SimpleUploadedFile("p.png", PNG)}, format="multipart").status_code == 403
