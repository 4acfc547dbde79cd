"""Every failure is the JSON envelope with the field and the reason; nothing is a 500."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from campaigns.api.parsers import MAX_JSON_BYTES
from campaigns.models import Account, Campaign
from tests.factories import CampaignFactory, RecipientListFactory

pytestmark = pytest.mark.django_db


def _errors(response) -> list[dict]:
    body = response.json()
    assert set(body) == {"errors"}
    for error in body["errors"]:
        assert set(error) == {"field", "code", "message"}
    return body["errors"]


def _raw_post(client: APIClient, path: str, body: bytes, content_type: str = "application/json"):
    return client.generic("POST", path, body, content_type=content_type)


def test_404_for_unknown_ids_paths_and_huge_ids(operator: APIClient) -> None:
    for path in (
        "/api/v1/campaigns/12345/",
        "/api/v1/campaigns/99999999999999999999999999/",
        "/api/v1/campaigns/abc/",
        "/api/v1/nope/",
        "/api/v1/campaigns/1/nope/",
    ):
        response = operator.get(path)
        assert response.status_code == 404, path
        assert _errors(response)[0]["code"] == "not_found"


def test_a_missing_trailing_slash_gets_a_hint(operator: APIClient) -> None:
    response = operator.post("/api/v1/send", {})
    assert response.status_code == 404
    assert "/api/v1/send/" in _errors(response)[0]["message"]


def test_405_and_415(operator: APIClient) -> None:
    not_allowed = operator.delete("/api/v1/send/")
    assert not_allowed.status_code == 405
    assert _errors(not_allowed)[0]["code"] == "method_not_allowed"
    assert "POST" in not_allowed.headers["Allow"]
    unsupported = _raw_post(operator, "/api/v1/lists/", b"name=x", "application/x-www-form-urlencoded")
    assert unsupported.status_code == 415
    assert _errors(unsupported)[0]["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'{"name": "caf\xe9"}',  # latin-1, not UTF-8
        b'{"name": NaN}',
        b'{"name": 1e999}',
        b"[" * 5000 + b"]" * 5000,
        b'{"name": "a\\u0000b"}',
        b'{"name": "\\ud800"}',
        b'{"name": ' + b"9" * 5000 + b"}",
        b'{"a": ' + b"[" * 40 + b"1" + b"]" * 40 + b"}",  # deeper than the parser allows
    ],
)
def test_unreadable_json_is_a_400_parse_error(operator: APIClient, body: bytes) -> None:
    response = _raw_post(operator, "/api/v1/lists/", body)
    assert response.status_code == 400
    assert _errors(response)[0]["code"] == "parse_error"


def test_json_is_read_as_utf8_whatever_the_charset_says(operator: APIClient) -> None:
    # RFC 8259: JSON between systems is UTF-8. DRF would look the charset up (LookupError: a 500).
    for charset in ("klingon", "utf-8", "latin-1"):
        body = '{"name": "café"}'.encode()
        response = _raw_post(operator, "/api/v1/lists/", body, f"application/json; charset={charset}")
        assert response.status_code == 201, charset
        assert response.json()["name"] == "café"


def test_a_body_over_the_limit_is_413(operator: APIClient) -> None:
    body = json.dumps({"name": "x", "description": "y" * MAX_JSON_BYTES}).encode()
    response = _raw_post(operator, "/api/v1/lists/", body)
    assert response.status_code == 413
    assert _errors(response)[0]["code"] == "too_large"


def test_unknown_fields_are_named(operator: APIClient) -> None:
    response = operator.post("/api/v1/lists/", {"name": "x", "colour": "red", "nmae": "y"})
    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in _errors(response)] == [
        ("colour", "unknown_field"),
        ("nmae", "unknown_field"),
    ]


def test_wrong_types_and_huge_numbers(operator: APIClient, account: Account) -> None:
    cases = [
        ({"name": ["a"], "account": account.id}, "name"),
        ({"name": "x", "account": 10**30}, "account"),
        ({"name": "x", "account": "abc"}, "account"),
        ({"name": "x", "account": account.id, "send_rate": 10**30}, "send_rate"),
        ({"name": "x", "account": account.id, "send_rate": 1.5}, "send_rate"),
        ({"name": "x", "account": account.id, "recipient_lists": [10**30]}, "recipient_lists.0"),
        ({"name": "x", "account": account.id, "recipient_lists": list(range(1, 102))}, "recipient_lists"),
        ({"name": "x", "account": account.id, "validity_period": "99999999999 days"}, "validity_period"),
        ({"name": "x", "account": account.id, "quiet_hours_start": "25:00", "quiet_hours_end": "1"}, None),
        ({"name": "x" * 201, "account": account.id}, "name"),
    ]
    for payload, field in cases:
        response = operator.post("/api/v1/campaigns/", payload)
        assert response.status_code == 400, payload
        fields = [e["field"] for e in _errors(response)]
        assert field is None or field in fields, (payload, fields)
    assert not Campaign.objects.exists()


def test_a_non_object_body_is_a_400(operator: APIClient) -> None:
    for body in (b"[]", b'"text"', b"42", b"null"):
        response = _raw_post(operator, "/api/v1/lists/", body)
        assert response.status_code == 400, body
        assert _errors(response)[0]["field"] is None


def test_nested_errors_have_dotted_fields(operator: APIClient) -> None:
    campaign = CampaignFactory()
    response = operator.post(f"/api/v1/campaigns/{campaign.id}/test-send/", {"phones": ["+447911100001", 5]})
    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in _errors(response)] == [("phones.1", "invalid")]


def test_bulk_add_refuses_bad_rows_alone_but_a_bad_request_whole(operator: APIClient) -> None:
    recipient_list = RecipientListFactory()
    rows = [{"phone": "+447911100001"}, {"phone": "+447911100002", "first_name": "x" * 101}]
    response = operator.post(f"/api/v1/lists/{recipient_list.id}/contacts/", {"contacts": rows})
    assert response.status_code == 200
    assert response.json()["rejected_rows"][0]["row"] == 2
    for body in ({"contacts": []}, {"contacts": "x"}, {"contacts": rows, "extra": 1}, {}):
        response = operator.post(f"/api/v1/lists/{recipient_list.id}/contacts/", body)
        assert response.status_code == 400, body
        assert _errors(response)[0]["field"] in ("contacts", "extra")


def test_bulk_add_is_bounded(operator: APIClient) -> None:
    recipient_list = RecipientListFactory()
    rows = [{"phone": f"+4479111{n:05d}"} for n in range(1001)]
    response = operator.post(f"/api/v1/lists/{recipient_list.id}/contacts/", {"contacts": rows})
    assert response.status_code == 400
    assert _errors(response)[0]["field"] == "contacts"


def test_pagination_errors(operator: APIClient) -> None:
    for params in ({"page": 999}, {"page": "x"}, {"cursor": "garbage"}):
        path = "/api/v1/messages/" if "cursor" in params else "/api/v1/lists/"
        response = operator.get(path, params)
        assert response.status_code == 404, params
        _errors(response)


def test_application_error_keeps_its_field_and_code(operator: APIClient) -> None:
    campaign = CampaignFactory()
    response = operator.post(f"/api/v1/campaigns/{campaign.id}/resume/")
    assert response.status_code == 409
    assert _errors(response) == [
        {"field": "status", "code": "invalid_state", "message": "Cannot resume a campaign that is draft."}
    ]


def test_paths_with_control_characters_are_json_404s(operator: APIClient) -> None:
    for path in ("/api/v1/lists/%0A/", "/api/v1/campaigns/b%7F%0A/cancel/", "/api/v1/%00/"):
        response = operator.post(path)
        assert response.status_code == 404, path
        assert _errors(response)[0]["code"] == "not_found"
