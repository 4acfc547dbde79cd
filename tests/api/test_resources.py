"""CRUD of lists, contacts, opt-outs and campaigns; message filters."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from campaigns.models import Account, Campaign, CampaignStatus, Contact, OptOut, RecipientList
from campaigns.statuses import MessageStatus
from tests.factories import CampaignFactory, ContactFactory, MessageFactory, OptOutFactory, RecipientListFactory

pytestmark = pytest.mark.django_db


def test_list_crud(marketer: APIClient) -> None:
    created = marketer.post("/api/v1/lists/", {"name": "Newsletter", "description": "Monthly"})
    assert created.status_code == 201
    list_id = created.json()["id"]
    assert created.json()["contacts_count"] == 0
    ContactFactory(recipient_list=RecipientList.objects.get(id=list_id))
    assert marketer.get(f"/api/v1/lists/{list_id}/").json()["contacts_count"] == 1
    assert marketer.patch(f"/api/v1/lists/{list_id}/", {"name": "Renamed"}).json()["name"] == "Renamed"
    assert marketer.delete(f"/api/v1/lists/{list_id}/").status_code == 204
    assert not RecipientList.objects.exists() and not Contact.objects.exists()


def test_contact_phone_is_normalised_and_a_bad_one_explained(marketer: APIClient) -> None:
    recipient_list = RecipientListFactory()
    created = marketer.post(
        "/api/v1/contacts/",
        {"recipient_list": recipient_list.id, "phone": "+44 7911 100001", "attributes": {"city": "Leeds"}},
    )
    assert created.status_code == 201, created.json()
    assert created.json()["phone"] == "+447911100001"
    bad = marketer.post("/api/v1/contacts/", {"recipient_list": recipient_list.id, "phone": "+44 12"})
    assert bad.status_code == 400
    [error] = bad.json()["errors"]
    assert error["field"] == "phone" and error["code"] == "invalid_phone"
    assert error["message"] == "'+44 12' is not a valid phone number: too short"


def test_contact_duplicate_on_a_list_is_refused(marketer: APIClient) -> None:
    contact = ContactFactory(phone="+447911100001")
    again = marketer.post("/api/v1/contacts/", {"recipient_list": contact.recipient_list_id, "phone": "+447911100001"})
    assert again.status_code == 400
    assert again.json()["errors"][0]["code"] == "unique"
    assert Contact.objects.count() == 1


def test_contact_update_filter_and_delete(marketer: APIClient) -> None:
    contact = ContactFactory(phone="+447911100001")
    other = ContactFactory(phone="+447911100002")
    url = f"/api/v1/contacts/{contact.id}/"
    assert marketer.patch(url, {"first_name": "Sam", "phone": "+44 7911 100003"}).status_code == 200
    contact.refresh_from_db()
    assert (contact.first_name, contact.phone) == ("Sam", "+447911100003")
    by_list = marketer.get("/api/v1/contacts/", {"list": other.recipient_list_id}).json()["results"]
    assert [c["id"] for c in by_list] == [other.id]
    by_phone = marketer.get("/api/v1/contacts/", {"phone": "+44 7911 100003"}).json()["results"]
    assert [c["id"] for c in by_phone] == [contact.id]
    assert marketer.delete(url).status_code == 204
    assert not Contact.objects.filter(id=contact.id).exists()


def test_contact_attributes_must_be_a_flat_object(marketer: APIClient) -> None:
    recipient_list = RecipientListFactory()
    for attributes in (["a"], {"nested": {"x": 1}}, {"k": "v" * 501}, {f"k{n}": n for n in range(51)}):
        response = marketer.post(
            "/api/v1/contacts/",
            {"recipient_list": recipient_list.id, "phone": "+447911100001", "attributes": attributes},
        )
        assert response.status_code == 400, attributes
        assert response.json()["errors"][0]["field"] == "attributes"


def test_opt_out_crud_global_and_per_account(marketer: APIClient, account: Account) -> None:
    glob = marketer.post("/api/v1/opt-outs/", {"phone": "+44 7911 100001", "note": "asked by phone"})
    assert glob.status_code == 201, glob.json()
    assert glob.json() | {"id": 0, "created_at": ""} == {
        "id": 0,
        "phone": "+447911100001",
        "account": None,
        "source": "api",
        "note": "asked by phone",
        "created_at": "",
    }
    scoped = marketer.post("/api/v1/opt-outs/", {"phone": "+447911100001", "account": account.id})
    assert scoped.status_code == 201
    again = marketer.post("/api/v1/opt-outs/", {"phone": "+447911100001"})
    assert again.status_code == 200 and again.json()["id"] == glob.json()["id"]
    assert marketer.get("/api/v1/opt-outs/", {"account": account.id}).json()["count"] == 1
    assert marketer.delete(f"/api/v1/opt-outs/{glob.json()['id']}/").status_code == 204
    assert list(OptOut.objects.values_list("account_id", flat=True)) == [account.id]


def test_an_opt_out_suppresses_the_numbers_unsent_messages(marketer: APIClient) -> None:
    campaign = CampaignFactory(status=CampaignStatus.RUNNING)
    pending = MessageFactory(campaign=campaign, phone="+447911100001")
    delivered = MessageFactory(phone="+447911100001", status=MessageStatus.DELIVERED)
    assert marketer.post("/api/v1/opt-outs/", {"phone": "+447911100001"}).status_code == 201
    pending.refresh_from_db()
    delivered.refresh_from_db()
    assert (pending.status, delivered.status) == (MessageStatus.SUPPRESSED, MessageStatus.DELIVERED)


def test_only_an_opt_outs_note_changes(marketer: APIClient) -> None:
    opt_out = OptOutFactory(phone="+447911100002")
    assert marketer.patch(f"/api/v1/opt-outs/{opt_out.id}/", {"note": "kept"}).json()["note"] == "kept"
    moved = marketer.patch(f"/api/v1/opt-outs/{opt_out.id}/", {"phone": "+447911100001"})
    assert moved.status_code == 400
    assert moved.json()["errors"][0] | {"message": ""} == {"field": "phone", "code": "unknown_field", "message": ""}
    opt_out.refresh_from_db()
    assert opt_out.phone == "+447911100002"


def test_campaign_crud(marketer: APIClient, account: Account) -> None:
    lists = RecipientListFactory.create_batch(2)
    payload = {
        "name": "Spring sale",
        "account": account.id,
        "body": 'Hi {{ first_name|default:"there" }}',
        "recipient_lists": [lists[0].id, lists[1].id],
        "timezone": "Europe/London",
        "quiet_hours_start": "09:00",
        "quiet_hours_end": "20:00",
        "validity_period": "1 00:00:00",
    }
    created = marketer.post("/api/v1/campaigns/", payload)
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["status"] == "draft" and data["recipient_lists"] == [lists[0].id, lists[1].id]
    campaign = Campaign.objects.get(id=data["id"])
    assert campaign.created_by == marketer.user and campaign.validity_period.days == 1
    changed = marketer.patch(f"/api/v1/campaigns/{campaign.id}/", {"recipient_lists": [lists[1].id], "send_rate": 5})
    assert changed.status_code == 200
    assert changed.json()["recipient_lists"] == [lists[1].id]
    assert marketer.get("/api/v1/campaigns/", {"status": "draft"}).json()["count"] == 1
    assert marketer.get("/api/v1/campaigns/", {"status": "running"}).json()["count"] == 0
    assert marketer.delete(f"/api/v1/campaigns/{campaign.id}/").status_code == 204
    assert not Campaign.objects.exists()


def test_campaign_validation_names_each_field(marketer: APIClient, account: Account) -> None:
    response = marketer.post(
        "/api/v1/campaigns/",
        {
            "name": "x",
            "account": account.id,
            "body": "{% load evil %}",
            "timezone": "Mars/Olympus",
            "recipient_lists": [987654],
            "quiet_hours_start": "09:00",
        },
    )
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"body", "timezone", "recipient_lists"}
    only_start = marketer.post("/api/v1/campaigns/", {"name": "x", "account": account.id, "quiet_hours_start": "09:00"})
    assert only_start.json()["errors"][0]["field"] == "quiet_hours_end"


def test_a_running_campaign_cannot_be_edited_or_deleted(marketer: APIClient) -> None:
    campaign = CampaignFactory(status=CampaignStatus.RUNNING, name="Live")
    edit = marketer.patch(f"/api/v1/campaigns/{campaign.id}/", {"name": "Changed"})
    assert edit.status_code == 409 and edit.json()["errors"][0]["code"] == "invalid_state"
    delete = marketer.delete(f"/api/v1/campaigns/{campaign.id}/")
    assert delete.status_code == 409
    campaign.refresh_from_db()
    assert campaign.name == "Live"


def test_read_only_campaign_fields_cannot_be_set(marketer: APIClient, account: Account) -> None:
    response = marketer.post("/api/v1/campaigns/", {"name": "x", "account": account.id, "status": "running"})
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "status", "code": "unknown_field", "message": "Unknown or read-only field."}
    ]


def test_messages_filter_by_campaign_status_and_phone(viewer: APIClient) -> None:
    first, second = CampaignFactory(), CampaignFactory()
    delivered = MessageFactory(campaign=first, phone="+447911100001", status=MessageStatus.DELIVERED)
    failed = MessageFactory(campaign=first, phone="+447911100002", status=MessageStatus.FAILED)
    MessageFactory(campaign=second, phone="+447911100001", status=MessageStatus.DELIVERED)

    def ids(**params: str | int) -> list[int]:
        response = viewer.get("/api/v1/messages/", params)
        assert response.status_code == 200, response.json()
        return [m["id"] for m in response.json()["results"]]

    assert ids(campaign=first.id) == [failed.id, delivered.id]
    assert ids(campaign=first.id, status="delivered") == [delivered.id]
    assert ids(campaign=first.id, status="delivered,failed") == [failed.id, delivered.id]
    assert ids(campaign=first.id, phone="+44 7911 100001") == [delivered.id]
    detail = viewer.get(f"/api/v1/messages/{delivered.id}/").json()
    assert detail["channel"] == "sms" and detail["parts"] == []


def test_message_filters_are_validated(viewer: APIClient) -> None:
    for params, field in (
        ({"campaign": "abc"}, "campaign"),
        ({"campaign": "99999999999999999999999"}, "campaign"),
        ({"status": "bogus"}, "status"),
        ({"phone": "nope"}, "phone"),
    ):
        response = viewer.get("/api/v1/messages/", params)
        assert response.status_code == 400, params
        assert response.json()["errors"][0]["field"] == field


def test_campaign_list_includes_test_sends_unless_filtered(viewer: APIClient) -> None:
    real, test = CampaignFactory(), CampaignFactory(is_test=True)

    def ids(**params: str) -> set[int]:
        return {c["id"] for c in viewer.get("/api/v1/campaigns/", params).json()["results"]}

    assert ids() == {real.id, test.id}
    assert ids(is_test="false") == {real.id}
    assert ids(is_test="true") == {test.id}


def test_empty_query_values_are_errors_not_missing_filters(viewer: APIClient, marketer: APIClient) -> None:
    assert viewer.get("/api/v1/campaigns/", {"is_test": ""}).status_code == 400
    assert viewer.get("/api/v1/messages/", {"campaign": ""}).status_code == 400
    assert marketer.get("/api/v1/contacts/", {"list": ""}).status_code == 400
    assert marketer.get("/api/v1/lists/", {"page": ""}).status_code == 404
    assert marketer.get("/api/v1/lists/", {"page_size": ""}).status_code == 400
    assert marketer.get("/api/v1/lists/", {"page": "last"}).status_code == 200
