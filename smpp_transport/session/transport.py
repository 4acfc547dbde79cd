"""TCP and TLS byte transport for one SMPP connection.

Two threads use a connection at once: the reader (all reads) and the writers (the sender
and, for responses, the reader). Design choices, each from a measured smpplib problem:

* TCP_NODELAY: without it Nagle + delayed ACK make throughput swing by 10x once receipts
  interleave with submits.
* TLS goes through ``ssl.MemoryBIO`` + ``SSLObject`` under a lock, not an ``SSLSocket``:
  OpenSSL forbids SSL_read and SSL_write on one SSL object from two threads at once (full
  duplex over a blocking SSLSocket can crash), and select/poll cannot see plaintext already
  buffered inside an SSLSocket. With memory BIOs the raw socket is used full duplex safely,
  and the lock is only ever held for in-memory crypto, never across a blocking call.
* Writes account for every byte: ``send_pdus`` reports how many PDUs were wholly handed to
  the kernel, so after a failed write the bind knows exactly which parts were "written"
  (ambiguous) and which were not (safe to send again).
* The socket timeout bounds a stuck write; for reads it is only an idle tick, since the
  reader accumulates partial PDUs itself and never loses bytes on a timeout.
"""

from __future__ import annotations

import bisect
import itertools
import socket
import ssl
import threading
from collections.abc import Sequence

from smpplib.client import Client

from smpp_transport.session.codec import SequenceGenerator
from smpp_transport.session.types import BindConfig

__all__ = ["PduClient", "TlsTransport", "Transport", "open_transport"]

_RECV_SIZE = 64 * 1024  # below glibc's mmap threshold: no mmap/munmap per read


class PduClient(Client):
    """smpplib's Client, used as the PDU factory and socket maker of a bind.

    Its own send/read/bind methods are not used: they are not thread-safe, have no window
    and no timeout handling (issue 3). It keeps the thread-safe sequence generator (every
    ``make_pdu(client=...)`` draws from it) and creates the TCP socket with TCP_NODELAY.
    """

    def __init__(self, config: BindConfig) -> None:
        super().__init__(
            config.host,
            config.port,
            timeout=config.connect_timeout_s,
            sequence_generator=SequenceGenerator(),
            logger_name="smpp_transport.smpplib",
            allow_unknown_opt_params=True,
        )

    def _create_socket(self) -> socket.socket:
        """A connected TCP socket with TCP_NODELAY; smpplib's own is unconnected IPv4 only.

        ``create_connection`` tries every address the name resolves to (IPv6 and IPv4),
        within ``connect_timeout_s``.
        """
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        return sock


class Transport:
    """Plaintext SMPP over TCP; the base of the TLS transport."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.send_lock = threading.Lock()
        self._closed = False

    def recv(self) -> bytes:
        """Next bytes of the stream; ``b""`` at EOF; TimeoutError when idle."""
        return self.sock.recv(_RECV_SIZE)

    def _wire_chunks(self, pdus: Sequence[bytes]) -> list[bytes]:
        return list(pdus)

    def send_pdus(self, pdus: Sequence[bytes]) -> tuple[int, OSError | None]:
        """Write PDUs in order; return (how many were wholly written, the error if any)."""
        with self.send_lock:
            try:
                chunks = self._wire_chunks(pdus)
            except (ssl.SSLError, ValueError) as exc:
                return 0, OSError(f"TLS write failed: {exc}")
            buf = chunks[0] if len(chunks) == 1 else b"".join(chunks)
            total = len(buf)
            sent = 0
            error: OSError | None = None
            try:
                sent = self.sock.send(buf)
                if sent < total:
                    view = memoryview(buf)
                    while sent < total:
                        sent += self.sock.send(view[sent:])
            except OSError as exc:
                error = exc
        if error is None:
            return len(pdus), None
        ends = list(itertools.accumulate(len(chunk) for chunk in chunks))
        return bisect.bisect_right(ends, sent), error

    def shutdown(self) -> None:
        """Wake a reader blocked in recv and refuse further I/O (idempotent)."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close(self, graceful: bool = False) -> None:
        """Close the connection (idempotent); ``graceful`` lets TLS send close_notify."""
        if not self._closed:
            self._closed = True
            self.shutdown()
            self.sock.close()


class TlsTransport(Transport):
    """TLS over memory BIOs: see the module docstring for why not an SSLSocket."""

    def __init__(self, sock: socket.socket, context: ssl.SSLContext, server_hostname: str):
        super().__init__(sock)
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_side=False, server_hostname=server_hostname)
        self._tls_lock = threading.Lock()

    def handshake(self) -> None:
        """Complete the handshake (certificate verification included) on the caller's thread."""
        while True:
            try:
                with self._tls_lock:
                    self._tls.do_handshake()
                self._flush()
                return
            except ssl.SSLWantReadError:
                self._flush()
                data = self.sock.recv(_RECV_SIZE)
                if not data:
                    raise ConnectionError("connection closed during the TLS handshake") from None
                with self._tls_lock:
                    self._incoming.write(data)

    def _flush(self) -> None:
        """Send whatever the TLS engine produced (handshake, alerts, key updates)."""
        with self.send_lock:
            with self._tls_lock:
                data = self._outgoing.read()
            if data:
                self.sock.sendall(data)

    def recv(self) -> bytes:
        while True:
            with self._tls_lock:
                try:
                    data = self._tls.read(_RECV_SIZE)
                except ssl.SSLWantReadError:
                    data = None
                except ssl.SSLZeroReturnError:
                    return b""
                pending = self._outgoing.pending
            if pending:
                self._flush()
            if data:
                return data
            raw = self.sock.recv(_RECV_SIZE)
            if not raw:
                return b""
            with self._tls_lock:
                self._incoming.write(raw)

    def _wire_chunks(self, pdus: Sequence[bytes]) -> list[bytes]:
        # Encrypt PDU by PDU so each one's ciphertext boundary is known (exact accounting);
        # the caller holds send_lock, so records go out in the order they were sealed.
        chunks = []
        with self._tls_lock:
            for pdu in pdus:
                self._tls.write(pdu)
                chunks.append(self._outgoing.read())
        return chunks

    def close(self, graceful: bool = False) -> None:
        if graceful and not self._closed:
            try:
                with self._tls_lock:
                    self._tls.unwrap()
            except (ssl.SSLError, ValueError):
                pass  # SSLWantReadError: the peer's close_notify is not awaited
            try:
                self._flush()
            except OSError:
                pass
        super().close()


def make_ssl_context(config: BindConfig) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=config.tls_ca_file)
    if not config.tls_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def open_transport(config: BindConfig, client: PduClient) -> Transport:
    """Connect (and handshake) within connect_timeout_s; later I/O uses response_timeout_s."""
    sock = client._create_socket()
    try:
        transport: Transport
        if config.tls:
            transport = TlsTransport(sock, make_ssl_context(config), config.tls_server_hostname or config.host)
            transport.handshake()
        else:
            transport = Transport(sock)
        sock.settimeout(config.response_timeout_s)
        return transport
    except BaseException:
        sock.close()
        raise
