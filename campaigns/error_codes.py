"""What the error codes in a delivery report mean.

Two kinds reach a part's ``error_code``: the command_status of a ``submit_sm_resp`` (SMPP 3.4
section 5.1.3, the same in every SMSC) and the ``err`` of a delivery receipt, which SMPP
leaves to the network. For the latter most providers pass the GSM MAP error cause through
(3GPP TS 29.002), so that is what we show, flagged as the usual meaning, not a promise.
"""

from __future__ import annotations

SMPP_COMMAND_STATUS: dict[int, tuple[str, str]] = {
    0x00: ("ESME_ROK", "No error"),
    0x01: ("ESME_RINVMSGLEN", "Message length is invalid"),
    0x02: ("ESME_RINVCMDLEN", "Command length is invalid"),
    0x03: ("ESME_RINVCMDID", "Invalid command ID"),
    0x04: ("ESME_RINVBNDSTS", "Incorrect bind status for the command"),
    0x05: ("ESME_RALYBND", "Already bound"),
    0x06: ("ESME_RINVPRTFLG", "Invalid priority flag"),
    0x07: ("ESME_RINVREGDLVFLG", "Invalid registered delivery flag"),
    0x08: ("ESME_RSYSERR", "System error at the provider"),
    0x0A: ("ESME_RINVSRCADR", "Invalid sender address"),
    0x0B: ("ESME_RINVDSTADR", "Invalid destination address"),
    0x0C: ("ESME_RINVMSGID", "Message ID is invalid"),
    0x0D: ("ESME_RBINDFAIL", "Bind failed"),
    0x0E: ("ESME_RINVPASWD", "Invalid password"),
    0x0F: ("ESME_RINVSYSID", "Invalid system ID"),
    0x11: ("ESME_RCANCELFAIL", "Cancel failed"),
    0x13: ("ESME_RREPLACEFAIL", "Replace failed"),
    0x14: ("ESME_RMSGQFUL", "Message queue full at the provider"),
    0x15: ("ESME_RINVSERTYP", "Invalid service type"),
    0x33: ("ESME_RINVNUMDESTS", "Invalid number of destinations"),
    0x34: ("ESME_RINVDLNAME", "Invalid distribution list name"),
    0x40: ("ESME_RINVDESTFLAG", "Invalid destination flag"),
    0x42: ("ESME_RINVSUBREP", "Invalid submit-with-replace request"),
    0x43: ("ESME_RINVESMCLASS", "Invalid esm_class"),
    0x44: ("ESME_RCNTSUBDL", "Cannot submit to distribution list"),
    0x45: ("ESME_RSUBMITFAIL", "submit_sm or submit_multi failed"),
    0x48: ("ESME_RINVSRCTON", "Invalid sender type of number (TON)"),
    0x49: ("ESME_RINVSRCNPI", "Invalid sender numbering plan (NPI)"),
    0x50: ("ESME_RINVDSTTON", "Invalid destination type of number (TON)"),
    0x51: ("ESME_RINVDSTNPI", "Invalid destination numbering plan (NPI)"),
    0x53: ("ESME_RINVSYSTYP", "Invalid system type"),
    0x54: ("ESME_RINVREPFLAG", "Invalid replace_if_present flag"),
    0x55: ("ESME_RINVNUMMSGS", "Invalid number of messages"),
    0x58: ("ESME_RTHROTTLED", "Throttled: sent faster than the provider allows"),
    0x61: ("ESME_RINVSCHED", "Invalid scheduled delivery time"),
    0x62: ("ESME_RINVEXPIRY", "Invalid validity period (expiry time)"),
    0x63: ("ESME_RINVDFTMSGID", "Predefined message not found"),
    0x64: ("ESME_RX_T_APPN", "Receiver temporary application error"),
    0x65: ("ESME_RX_P_APPN", "Receiver permanent application error"),
    0x66: ("ESME_RX_R_APPN", "Receiver rejected the message"),
    0x67: ("ESME_RQUERYFAIL", "query_sm failed"),
    0xC0: ("ESME_RINVOPTPARSTREAM", "Error in the optional part of the PDU body"),
    0xC1: ("ESME_ROPTPARNOTALLWD", "Optional parameter not allowed"),
    0xC2: ("ESME_RINVPARLEN", "Invalid parameter length"),
    0xC3: ("ESME_RMISSINGOPTPARAM", "Expected optional parameter missing"),
    0xC4: ("ESME_RINVOPTPARAMVAL", "Invalid optional parameter value"),
    0xFE: ("ESME_RDELIVERYFAILURE", "Delivery failure (data_sm_resp)"),
    0xFF: ("ESME_RUNKNOWNERR", "Unknown error"),
}

RECEIPT_ERR: dict[int, str] = {
    0: "No error",
    1: "Unknown subscriber (the number does not exist)",
    5: "Unidentified subscriber",
    6: "Absent subscriber (phone off or out of coverage)",
    9: "Illegal subscriber",
    11: "Teleservice not provisioned (cannot receive SMS)",
    12: "Illegal equipment",
    13: "Call barred (the subscriber or operator blocks it)",
    21: "Facility not supported",
    27: "Absent subscriber (phone off or out of coverage)",
    31: "Subscriber busy for MT SMS",
    32: "SM delivery failure (e.g. the phone's memory is full)",
    33: "Message waiting list full",
    34: "System failure in the network",
    35: "Data missing",
    36: "Unexpected data value",
}


def describe(kind: str, code: int | None, sample: str = "") -> tuple[str, str]:
    """(name, meaning) for a failure group's code; the recorded error text when unknown."""
    if code is None:
        return "—", sample or "No error code recorded"
    if kind == "mm4":
        band = "temporary: retried" if 400 <= code < 500 else "permanent" if 500 <= code < 600 else "unexpected"
        return f"SMTP {code}", f"{sample or 'MM4 server reply'} ({band})"
    if kind == "receipt":
        return f"err {code:03d}", RECEIPT_ERR.get(code, "Provider-specific: see your provider's error list")
    name, meaning = SMPP_COMMAND_STATUS.get(code, (f"0x{code:08X}", "Vendor-specific command status"))
    return f"{name} (0x{code:02X})", meaning
