"""The MM4 probe behind the account page's "Test connection": connect, EHLO, AUTH, QUIT.

Registered with the domain at start-up (``MmsTransportConfig.ready``); sends no message.
"""

from __future__ import annotations

import time

from campaigns.services import transport_api
from mms_transport.adapter import endpoint
from mms_transport.client import MM4Error, MM4Session

PROBE_TIMEOUT_S = 10.0


def probe(system_id: str) -> transport_api.ConnectionCheck:
    account = transport_api.mm4_account_settings(system_id=system_id)
    if not account.host:
        return transport_api.ConnectionCheck(False, "No MM4 host is set for this account.")
    where = f"{account.host}:{account.port}{' (TLS)' if account.tls else ''}"
    session = MM4Session(endpoint(account, timeout_s=PROBE_TIMEOUT_S))
    started = time.monotonic()
    try:
        session.connect()
        elapsed = round((time.monotonic() - started) * 1000)
        return transport_api.ConnectionCheck(
            True, f"Logged in to {where} in {elapsed} ms: the MMSC accepted the account's API key.", elapsed
        )
    except MM4Error as exc:
        return transport_api.ConnectionCheck(False, f"MM4 at {where}: {exc}.")
    finally:
        session.close()
