"""SMPP over TLS with certificate verification, against the simulator.

The certificates come from the openssl CLI (a throw-away CA and a server certificate for
"localhost") so the client verifies a real chain, as it would against a provider on 3550.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

from smpp_transport.bind import Bind, BindConfig
from tests.smpp_transport.test_bind import PASSWORD, SYSTEM_ID, Inbox, make_parts, make_sim

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI"),
]

__all__ = ["make_sim"]  # the fixture, re-used from test_bind


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("tls")
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
        "/CN=Test SMPP CA",
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
    return {"ca": str(d / "ca.pem"), "server": str(d / "server.pem"), "key": str(d / "server.key")}


@pytest.fixture
def tls_sim(make_sim, certs):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certs["server"], certs["key"])
    return make_sim(ssl_context=context)


def tls_bind(sim, inbox=None, **overrides) -> Bind:
    fields = {"tls": True, "rate_per_s": 0.0, "reconnect_min_s": 0.05, "reconnect_max_s": 0.5, "connect_timeout_s": 5.0}
    fields.update(overrides)
    return Bind(BindConfig("127.0.0.1", sim.port, SYSTEM_ID, PASSWORD, **fields), on_deliver=inbox)


def test_tls_bind_verifies_the_server_and_runs_full_duplex(tls_sim, certs) -> None:
    inbox = Inbox()
    bind = tls_bind(tls_sim, inbox, tls_ca_file=certs["ca"], tls_server_hostname="localhost")
    try:
        bind.start(timeout=10)
        # Enough traffic that receipts (read) and submits (write) cross on the one TLS
        # session all the time: the reason the transport uses memory BIOs under a lock.
        results = bind.submit(make_parts(2000), timeout=30)
        assert {r.outcome for r in results} == {"accepted"}
        assert inbox.wait_for(2000, timeout=30)
        assert inbox.receipt_ids() == {r.message_id for r in results}
        assert bind.stats["reconnects"] == 0
    finally:
        bind.stop(timeout=5)
    assert bind.state == "stopped"


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({}, "certificate verify failed"),  # the system trust store does not know our CA
        ({"tls_server_hostname": "smpp.example.com"}, "Hostname mismatch"),
    ],
)
def test_tls_bind_refuses_an_unverified_server(tls_sim, certs, overrides, expected) -> None:
    if "tls_server_hostname" in overrides:
        overrides = {**overrides, "tls_ca_file": certs["ca"]}
    bind = tls_bind(tls_sim, **overrides)
    try:
        with pytest.raises(TimeoutError):
            bind.start(timeout=1.0)
        assert expected in (bind.last_error or "")
        assert tls_sim.counters.get("binds", 0) == 0
    finally:
        bind.stop(timeout=5)


def test_tls_without_verification_when_explicitly_disabled(tls_sim) -> None:
    bind = tls_bind(tls_sim, tls_verify=False)
    try:
        bind.start(timeout=10)
        assert [r.outcome for r in bind.submit(make_parts(3), timeout=10)] == ["accepted"] * 3
    finally:
        bind.stop(timeout=5)
