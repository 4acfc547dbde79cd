"""Shared fixtures for the MM4 tests: simulators, a raw SMTP line client, certificates, a capture
receiver. Everything runs over real loopback sockets; waits are bounded and event-driven."""

from __future__ import annotations

import base64
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from mms_transport.receiver import ReceiverConfig, ReceiverThread, ReportHandler
from mms_transport.simulator import SimulatorConfig, SimulatorThread

SYSTEM_ID = "mmsuser0000001"
API_KEY = "k3y-secret-mm4"
#: the provider's login to our MM4 receiver (MM4_RECEIVER_AUTH in production).
PROVIDER_LOGIN = ("mmsc-provider", "rec3iver-pw")


class RawClient:
    """Speaks SMTP line by line so tests see every reply exactly as sent."""

    def __init__(self, port: int, *, context: ssl.SSLContext | None = None, host: str = "127.0.0.1") -> None:
        sock = socket.create_connection((host, port), timeout=5)
        if context is not None:
            sock = context.wrap_socket(sock, server_hostname="localhost")
        self.sock = sock
        self.file = sock.makefile("rwb")
        self.greeting = self.read()

    def read(self) -> str:
        """One whole reply (multi-line replies joined with newlines), without CRLFs."""
        lines = []
        while True:
            line = self.file.readline()
            if not line:
                raise ConnectionError("closed by the server")
            lines.append(line.decode("latin-1").rstrip("\r\n"))
            if line[3:4] != b"-":
                return "\n".join(lines)

    def send(self, raw: bytes) -> None:
        self.file.write(raw)
        self.file.flush()

    def cmd(self, line: str) -> str:
        self.send(line.encode("latin-1") + b"\r\n")
        return self.read()

    def login(self, user: str = SYSTEM_ID, key: str = API_KEY) -> str:
        assert self.cmd("EHLO tester").startswith("250")
        return self.cmd("AUTH PLAIN " + base64.b64encode(f"\0{user}\0{key}".encode()).decode())

    def closed(self) -> bool:
        """True when the server has closed the connection (reads EOF within the timeout)."""
        try:
            return self.file.readline() == b""
        except OSError:
            return True

    def close(self) -> None:
        self.file.close()
        self.sock.close()


@pytest.fixture
def make_sim(tmp_path: Path) -> Iterator:
    """Start simulators (plain listener, the test account, reports off; when a receiver is given, they
    log in to it with PROVIDER_LOGIN); stop them afterwards."""
    sims: list[SimulatorThread] = []

    def factory(**overrides) -> SimulatorThread:
        options = {
            "accounts": {SYSTEM_ID: API_KEY},
            "report_delay_s": 0.0,
            "eml_dir": tmp_path / "eml",
            "receiver_auth": PROVIDER_LOGIN,
            **overrides,
        }
        sim = SimulatorThread(SimulatorConfig(**options)).start()
        sims.append(sim)
        return sim

    yield factory
    for sim in sims:
        sim.stop()


@pytest.fixture
def raw() -> Iterator:
    clients: list[RawClient] = []

    def factory(port: int, **kwargs) -> RawClient:
        client = RawClient(port, **kwargs)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.close()


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A throw-away CA and a server certificate for "localhost", made with the openssl CLI."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl CLI")
    d = tmp_path_factory.mktemp("mm4-tls")
    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-subj",
        "/CN=Test MM4 CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        cwd=d,
    )
    openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
        cwd=d,
    )
    (d / "ext.cnf").write_text(
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n"
        "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
    )
    openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-out",
        "server.pem",
        "-extfile",
        "ext.cnf",
        cwd=d,
    )
    # A second, unrelated CA: a chain that does not lead to it must be refused.
    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-keyout",
        "other.key",
        "-out",
        "other.pem",
        "-subj",
        "/CN=Other CA",
        cwd=d,
    )
    return {
        "ca": str(d / "ca.pem"),
        "server": str(d / "server.pem"),
        "key": str(d / "server.key"),
        "other_ca": str(d / "other.pem"),
    }


class Capture:
    """What a capture receiver stored: (account id, receipt) pairs, with a bounded wait."""

    def __init__(self) -> None:
        self.items: list = []
        self.cond = threading.Condition()
        self.fail_next = 0

    def store(self, account_id: int, receipts: list, *, authenticated: bool = True) -> None:
        with self.cond:
            if self.fail_next:
                self.fail_next -= 1
                raise RuntimeError("database unavailable")
            self.items.extend((account_id, r) for r in receipts)
            self.cond.notify_all()

    def wait_for(self, n: int, timeout: float = 10.0) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: len(self.items) >= n, timeout)


@pytest.fixture
def capture_receiver() -> Iterator:
    """A real aiosmtpd receiver whose store is a list (no database): for simulator tests. The
    provider logs in with PROVIDER_LOGIN (AUTH in clear allowed on loopback)."""
    started: list[ReceiverThread] = []

    def factory(**config) -> tuple[ReceiverThread, Capture]:
        capture = Capture()
        handler = ReportHandler(resolve=lambda domain: 1, store=capture.store)
        options = {"auth": dict([PROVIDER_LOGIN]), "plain_auth_loopback": True, **config}
        receiver = ReceiverThread(handler, ReceiverConfig(port=0, **options)).start()
        started.append(receiver)
        return receiver, capture

    yield factory
    for receiver in started:
        receiver.stop()
