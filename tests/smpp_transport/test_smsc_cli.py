"""The SMSC simulator's PDU decoder, command line, `python -m` entry point and management command.

Synchronisation goes through the simulator's bounded wait_* helpers and blocking reads
with socket timeouts; nothing sleeps. Fixtures (make_sim, connect, raw) are in conftest.py.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smpp_transport.smsc import pdu
from smpp_transport.smsc.cli import parse_config
from tests.smpp_transport.smsc_client import (
    REPO,
    read,
    submit_and_read_id,
)

pytestmark = pytest.mark.timeout(30)


# -- codec and command line ------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=120))
def test_submit_sm_decoder_only_raises_decode_errors(body):
    try:
        pdu.parse_submit_sm(bytearray(body), 0, len(body))
    except pdu.PDUDecodeError:
        pass


def test_command_line_options_build_the_config():
    config = parse_config(
        [
            "--port",
            "0",
            "--account",
            "a:b",
            "--account",
            "c:d:e",
            "--rate",
            "5",
            "--outcomes",
            "DELIVRD=90,UNDELIV=5,none=5",
            "--id-format",
            "decimal",
            "--receipt-mode",
            "text",
            "--resp-delay",
            "0.5",
            "--dlr-delay",
            "2",
        ]
    )
    assert config.accounts == {"a": "b", "c": "d:e"}
    assert config.outcomes == {"DELIVRD": 90, "UNDELIV": 5, "none": 5}
    assert (config.rate_per_bind, config.dlr_delay_s, config.resp_delay_s) == (5, 2, 0.5)
    assert config.id_format == "decimal" and config.receipt_mode == "text"
    assert config.record_submits is False


def test_python_m_runs_until_sigterm(connect):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "smpp_transport.smsc", "--port", str(port), "--account", "sys1:pw1", "--rate", "0"],
        cwd=REPO,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "listening" in proc.stderr.readline()

        class Port:
            pass

        target = Port()
        target.port = port
        client = connect(target, "transceiver")
        assert submit_and_read_id(client, registered_delivery=0)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert read(client).command == "unbind"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_management_command_accepts_the_same_options():
    from smpp_transport.management.commands.smsc_simulator import Command
    from smpp_transport.smsc.cli import config_from_options

    parser = Command().create_parser("manage.py", "smsc_simulator")
    options = vars(
        parser.parse_args(
            [
                "--account",
                "sys:pw",
                "--port",
                "2775",
                "--outcomes",
                "DELIVRD=90,none=10",
                "--id-format",
                "hex",
                "--receipt-mode",
                "tlv+text",
                "--log",
                "submits.jsonl",
            ]
        )
    )
    config = config_from_options(options)
    assert config.accounts == {"sys": "pw"} and config.port == 2775
    assert config.outcomes == {"DELIVRD": 90, "none": 10}
    assert config.log_path == "submits.jsonl"
