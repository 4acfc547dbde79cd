"""Open one SMPP connection: TCP (+TLS), bind, wait for the bind response.

Done on the session thread before the reader thread exists, so reading the socket here
cannot race anyone. Bytes that arrive glued to the bind_resp (an SMSC may push a queued
deliver_sm in the same segment) are handed back so the reader starts with them.
"""

from __future__ import annotations

import time

from smpp_transport.session import codec
from smpp_transport.session.codec import ProtocolError, status_name
from smpp_transport.session.transport import PduClient, Transport, open_transport
from smpp_transport.session.types import BindAuthError, BindConfig, BindRefused

__all__ = ["open_bound_transport"]


def open_bound_transport(config: BindConfig, client: PduClient) -> tuple[Transport, bytearray, str]:
    """Return (transport, bytes already read after bind_resp, the SMSC's system_id).

    Raises BindAuthError when the SMSC refuses the credentials, BindRefused (an OSError)
    when it refuses the bind for capacity (ESME_RBINDFAIL), OSError (timeouts, refused
    connections, TLS verification failures, other bind refusals) or ProtocolError for
    everything worth another attempt.
    """
    transport = open_transport(config, client)
    try:
        seq, pdu = codec.build_bind(
            client, config.mode, system_id=config.system_id, password=config.password, system_type=config.system_type
        )
        if transport.send_pdus([pdu])[1] is not None:
            raise ConnectionError("could not write the bind PDU")
        expected = codec.BIND_RESP_IDS[config.mode]
        buf = bytearray()
        deadline = time.monotonic() + config.response_timeout_s
        while True:
            pos = 0
            while len(buf) - pos >= codec.HEADER_LEN:
                length, command_id, status, rseq = codec.HEADER.unpack_from(buf, pos)
                if not codec.HEADER_LEN <= length <= codec.MAX_PDU_LEN:
                    raise ProtocolError(f"invalid command_length {length}")
                if len(buf) - pos < length:
                    break
                frame = bytes(buf[pos : pos + length])
                pos += length
                if rseq == seq and command_id in (expected, codec.GENERIC_NACK):
                    del buf[:pos]
                    check_bind_status(config, status)
                    smsc = codec.c_string(frame, codec.HEADER_LEN, length)
                    return transport, buf, smsc.decode("latin-1", "replace")
                # Anything before our bind_resp is not for a bound session: ignore it.
            del buf[:pos]
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no bind response within {config.response_timeout_s}s")
            try:
                data = transport.recv()
            except TimeoutError:
                continue
            if not data:
                raise ConnectionError("connection closed by the SMSC before bind_resp")
            buf += data
    except BaseException:
        transport.close()
        raise


def check_bind_status(config: BindConfig, status: int) -> None:
    if status == codec.ESME_ROK:
        return
    name = status_name(status)
    if status in codec.AUTH_STATUSES:
        raise BindAuthError(f"{config.address} refused system_id {config.system_id!r}: {name}")
    if status in codec.BIND_CAPACITY_STATUSES:
        raise BindRefused(f"{config.address} refused a bind of {config.system_id!r}: {name} (too many binds?)")
    raise ConnectionError(f"bind refused: {name}")
