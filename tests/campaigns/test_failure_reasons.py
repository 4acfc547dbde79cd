"""Every undelivered message reads the same reason everywhere: stat first, err as detail,
the SMPP command status name or the MM4 reply for a submit failure, raw codes beside."""

from __future__ import annotations

import pytest

from campaigns.failure_reasons import reason_for


def test_expired_reads_as_expired_whatever_err_says() -> None:
    reason = reason_for(channel="sms", status="expired", part_status="expired", error_code=1, error="receipt err 001")
    assert reason.words == "expired: the phone was unreachable for the validity period"
    assert reason.code == "stat EXPIRED, err 001"


def test_undelivered_names_the_known_err() -> None:
    reason = reason_for(
        channel="sms", status="undelivered", part_status="undelivered", error_code=6, error="receipt err 006"
    )
    assert reason.words.startswith("undelivered: the network could not deliver it: absent subscriber")
    assert reason.code == "stat UNDELIV, err 006"


def test_unknown_err_keeps_the_stat_and_the_raw_code() -> None:
    reason = reason_for(
        channel="sms", status="rejected", part_status="rejected", error_code=250, error="receipt err 250"
    )
    assert reason.words.startswith("rejected by the network")
    assert reason.code == "stat REJECTD, err 250"


def test_undelivered_without_err() -> None:
    reason = reason_for(channel="sms", status="undelivered", part_status="undelivered")
    assert reason.words == "undelivered: the network could not deliver it"
    assert reason.code == "stat UNDELIV"


def test_submit_failure_names_the_command_status() -> None:
    reason = reason_for(channel="sms", status="failed", part_status="failed", error_code=0x0B, error="ESME_RINVDSTADR")
    assert reason.words == "not sent: ESME_RINVDSTADR: invalid destination address"
    assert reason.code == "ESME_RINVDSTADR (0x0B)"


def test_vendor_command_status_keeps_its_name() -> None:
    reason = reason_for(channel="sms", status="failed", part_status="failed", error_code=0x401, error="ESME_VENDOR")
    assert reason.words == "not sent: ESME_VENDOR: vendor-specific command status"
    assert reason.code == "ESME_VENDOR (0x401)"


def test_mms_submit_failure_is_the_mm4_reply() -> None:
    reason = reason_for(
        channel="mms", status="failed", part_status="failed", error_code=550, error="550 5.1.1 mailbox unavailable"
    )
    assert reason.words == "not sent: the MMS provider answered 550 5.1.1 mailbox unavailable"
    assert reason.code == "MM4 550"


def test_mms_report_status_code() -> None:
    reason = reason_for(channel="mms", status="expired", part_status="expired", stat="Expired")
    assert reason.words == "expired: the phone was unreachable for the validity period (MM4 status Expired)"
    assert reason.code == "MM4 status Expired"


def test_multipart_message_uses_its_failing_part() -> None:
    reason = reason_for(
        channel="sms", status="undelivered", part_status="undelivered", error_code=1, error="receipt err 001"
    )
    assert "unknown subscriber" in reason.words


def test_deadline_unknown_keeps_the_services_words() -> None:
    words = "no delivery receipt within 48 h"
    reason = reason_for(channel="sms", status="unknown", message_reason=words, part_status="unknown", error=words)
    assert reason.words == words


@pytest.mark.parametrize(("status", "reason"), [("suppressed", "opted out"), ("cancelled", "campaign cancelled")])
def test_not_sent_keeps_the_services_words(status: str, reason: str) -> None:
    assert reason_for(channel="sms", status=status, message_reason=reason).words == reason


@pytest.mark.parametrize("status", ["delivered", "accepted", "pending", "queued"])
def test_no_reason_while_fine(status: str) -> None:
    assert reason_for(channel="sms", status=status).words == ""
