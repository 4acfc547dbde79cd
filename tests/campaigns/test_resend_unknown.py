"""Resend to failed, optionally with the "unknown" messages (no receipt by the deadline):
the service takes them only when asked, and the draft then sends to them."""

from __future__ import annotations

import pytest

from campaigns.errors import ApplicationError
from campaigns.services import campaign_actions
from campaigns.statuses import S
from tests.campaigns.resend_unknown_setup import FAILED, UNKNOWN, finished_with_failed_and_unknown, list_phones

pytestmark = pytest.mark.django_db


def test_unknown_is_left_out_by_default_and_taken_when_asked(settings) -> None:
    original = finished_with_failed_and_unknown(settings)
    plain = campaign_actions.resend_failed(campaign=original)
    assert list_phones(plain) == [FAILED]
    assert plain.name == "Autumn sale (resend to failed)"

    wider = campaign_actions.resend_failed(campaign=original, include_unknown=True)
    assert list_phones(wider) == [FAILED, UNKNOWN]
    assert wider.name == "Autumn sale (resend to failed and unknown)" and wider.resend_of_id == original.pk
    assert wider.recipient_lists.get().name == "Autumn sale: failed and unknown recipients"
    assert wider.recipient_lists.get().contacts.get(phone=UNKNOWN).first_name == "Una"  # personalised the same

    campaign_actions.send_now(campaign=wider)
    assert dict(wider.messages.values_list("phone", "status")) == {FAILED: S.PENDING, UNKNOWN: S.PENDING}


def test_only_unknown_messages_need_the_option(settings) -> None:
    original = finished_with_failed_and_unknown(settings, failed=False)
    with pytest.raises(ApplicationError, match="No failed messages to resend."):
        campaign_actions.resend_failed(campaign=original)
    assert list_phones(campaign_actions.resend_failed(campaign=original, include_unknown=True)) == [UNKNOWN]
