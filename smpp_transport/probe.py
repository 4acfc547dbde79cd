"""The SMPP probe behind the account page's "Test connection": one bind, then unbind.

Registered with the domain at start-up (``SmppTransportConfig.ready``). It binds as a
transmitter (no receipts are routed to it, none are lost), reports what the SMSC answered
in words, and unbinds. It sends nothing. It takes one bind of the account's allowance
for a moment: a provider at its bind limit refuses it, which the answer then says.
"""

from __future__ import annotations

import time

from campaigns.services import transport_api
from smpp_transport.bind import Bind
from smpp_transport.session.types import BindAuthError, BindRefused

PROBE_TIMEOUT_S = 10.0


def probe(system_id: str) -> transport_api.ConnectionCheck:
    from smpp_transport.worker import bind_config  # the same settings the bind workers use

    account = transport_api.account_settings(system_id=system_id)
    where = f"{account.host}:{account.port}{' (TLS)' if account.tls else ''}"
    bind = Bind(bind_config(account, "tx"), name=f"{system_id}/probe")
    started = time.monotonic()
    try:
        bind.start(wait=True, timeout=PROBE_TIMEOUT_S, fail_on_refusal=True)
        elapsed = round((time.monotonic() - started) * 1000)
        return transport_api.ConnectionCheck(
            True, f"Bound to {where} as {system_id} in {elapsed} ms: the SMSC accepted the login.", elapsed
        )
    except BindAuthError as exc:
        return transport_api.ConnectionCheck(False, f"{where} refused the login of {system_id}: {exc}.")
    except BindRefused as exc:
        return transport_api.ConnectionCheck(
            False, f"{where} accepts no more binds of {system_id} now (all its sessions are in use?): {exc}."
        )
    except TimeoutError:
        detail = bind.last_error or "no answer"
        return transport_api.ConnectionCheck(
            False, f"Could not bind to {where} within {PROBE_TIMEOUT_S:.0f} s: {detail}."
        )
    finally:
        bind.stop(timeout=5.0)
