"""Why a message did not arrive, in words a marketer can act on, with the raw codes beside.

One function, :func:`reason_for`, used by every place that shows a reason (the admin's
message list and detail, the API's ``reason``, the CSV export, the report's Failures
table), so the same message reads the same everywhere. The order of evidence:

1. the delivery receipt's ``stat`` (what the network says happened): EXPIRED is "expired:
   the phone was unreachable for the validity period", whatever ``err`` says next to it;
2. then the receipt's ``err`` when its meaning is known (the GSM MAP cause most providers
   pass through, see ``campaigns.error_codes``), as a detail of an undelivered or
   rejected message: it says *why* (unknown subscriber, absent subscriber, barred, ...);
3. for a submit failure, the SMPP command status name (ESME_RINVDSTADR: invalid
   destination address) or, for MMS, the MM4 (SMTP) reply code and text;
4. otherwise the words the services wrote on the message (suppressed, cancelled, the
   receipt deadline's "no delivery receipt within …").

For SMS the part's status is the receipt's ``stat`` already (``STAT_TO_STATUS`` in
smpp_transport maps each stat to exactly one status, DELETED to undelivered), so no receipt
has to be read to name it; an MMS report's ``X-Mms-MM-Status-Code`` is read from the
receipt when the caller has it. Pure functions: no database, no Django models.
"""

from __future__ import annotations

from dataclasses import dataclass

from campaigns.error_codes import RECEIPT_ERR, SMPP_COMMAND_STATUS
from campaigns.statuses import S

#: The receipt's outcome in words (the ``stat`` a status stands for).
STAT_WORDS: dict[str, tuple[str, str]] = {
    S.EXPIRED: ("EXPIRED", "expired: the phone was unreachable for the validity period"),
    S.UNDELIVERED: ("UNDELIV", "undelivered: the network could not deliver it"),
    S.REJECTED: ("REJECTD", "rejected by the network (the operator or the recipient refused it)"),
    S.UNKNOWN: ("UNKNOWN", "unknown: the network never said whether it arrived"),
}
SUBMIT_FAILED = "not sent: the provider refused it"
NOT_SENT = {
    S.CANCELLED: "cancelled before it was sent",
    S.SUPPRESSED: "not sent: opted out or invalid number",
}
#: Statuses that mean the message did not (or may not have) reached the phone.
UNDELIVERED_STATUSES = frozenset({S.FAILED, S.REJECTED, S.UNDELIVERED, S.EXPIRED, S.UNKNOWN})


@dataclass(frozen=True)
class Reason:
    """``words``: what happened, for people; ``code``: the raw codes it is based on, e.g.
    ``"stat EXPIRED, err 001"`` or ``"ESME_RINVDSTADR (0x0B)"``; empty when none."""

    words: str
    code: str = ""

    def __str__(self) -> str:
        return f"{self.words} [{self.code}]" if self.code else self.words


def _err_words(code: int | None) -> str:
    return RECEIPT_ERR.get(code, "") if code else ""


def reason_for(
    *,
    channel: str,
    status: str,
    message_reason: str = "",
    part_status: str | None = None,
    error_code: int | None = None,
    error: str = "",
    stat: str = "",
) -> Reason:
    """The reason a message with ``status`` did not arrive (empty words when it did, or is on
    its way). ``part_status``/``error_code``/``error`` are of its first failing part, ``stat``
    the raw stat of that part's receipt when known (needed only for MMS)."""
    if status in NOT_SENT:
        return Reason(message_reason or NOT_SENT[status])
    if status not in UNDELIVERED_STATUSES:
        return Reason("")
    part_status = part_status or status
    mms = channel == "mms"
    if part_status == S.FAILED or (status == S.FAILED and error_code is not None and not error.startswith("receipt")):
        return _submit_failure(mms, error_code, error)
    if error.startswith("receipt err") or part_status in STAT_WORDS and part_status != S.UNKNOWN:
        return _receipt_failure(mms, part_status, error_code, error, stat)
    if status == S.UNKNOWN or part_status == S.UNKNOWN:
        words = message_reason or error or STAT_WORDS[S.UNKNOWN][1]
        return Reason(words, f"stat {stat}" if stat else "")
    return Reason(message_reason or error or SUBMIT_FAILED)


def _submit_failure(mms: bool, code: int | None, error: str) -> Reason:
    if mms:
        text = error.strip()
        if code is None:
            return Reason(f"{SUBMIT_FAILED}: {text}" if text else SUBMIT_FAILED)
        reply = text[4:].strip() if text.startswith(str(code)) else text
        return Reason(f"not sent: the MMS provider answered {code} {reply}".rstrip(), f"MM4 {code}")
    if code is None:
        return Reason(f"{SUBMIT_FAILED}: {error}" if error else SUBMIT_FAILED)
    name, meaning = SMPP_COMMAND_STATUS.get(code, (error or f"0x{code:08X}", "vendor-specific command status"))
    return Reason(f"not sent: {name}: {meaning[0].lower()}{meaning[1:]}", f"{name} (0x{code:02X})")


def _receipt_failure(mms: bool, status: str, code: int | None, error: str, stat: str) -> Reason:
    default_stat, words = STAT_WORDS.get(status, ("", status))
    raw = []
    if mms:
        if stat:
            words = f"{words} (MM4 status {stat})"
            raw.append(f"MM4 status {stat}")
        return Reason(words, ", ".join(raw))
    raw.append(f"stat {stat or default_stat}")
    if code is not None:
        raw.append(f"err {code:03d}")
        detail = _err_words(code)
        if detail and status != S.EXPIRED:  # the stat says what happened; err only why
            words = f"{words}: {detail[0].lower()}{detail[1:]}"
    elif error.startswith("receipt err"):
        raw.append(error.removeprefix("receipt ").strip())
    return Reason(words, ", ".join(raw))
