"""Command-line options of the MM4 simulator, shared by ``manage.py mm4_simulator`` and
``python -m mms_transport.simulator`` so both accept exactly the same arguments."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import Any

from .config import REPORT_IDS, SimulatorConfig, server_tls_context


def _account(value: str) -> tuple[str, str]:
    system_id, sep, key = value.partition(":")
    if not sep or not system_id:
        raise argparse.ArgumentTypeError(f"expected SYSTEM_ID:API_KEY, got {value!r}")
    return system_id, key


def _address(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return host, int(port)


def _outcomes(value: str) -> dict[str, float]:
    outcomes: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in value.split(","))):
        status, sep, weight = part.partition("=")
        try:
            outcomes[status.strip()] = float(weight) if sep else 1.0
        except ValueError:
            raise argparse.ArgumentTypeError(f"bad weight in {part!r}") from None
    if not outcomes:
        raise argparse.ArgumentTypeError("expected STATUS=WEIGHT[,STATUS=WEIGHT...]")
    return outcomes


def _reply(value: str) -> tuple[str, str]:
    number, sep, reply = value.partition("=")
    if not sep or not reply[:3].isdigit():
        raise argparse.ArgumentTypeError(f"expected NUMBER=CODE TEXT, got {value!r}")
    return number.lstrip("+"), reply


def add_simulator_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the simulator's options to ``parser`` (argparse or Django's CommandParser)."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=2525, help="plain SMTP port (0 = ephemeral, -1 = off)")
    parser.add_argument("--tls-port", type=int, default=None, help="implicit-TLS port (seed: 2465); needs --tls-cert")
    parser.add_argument("--tls-cert", default=None, help="PEM certificate of the TLS listener")
    parser.add_argument("--tls-key", default=None, help="PEM private key (with --tls-cert)")
    parser.add_argument(
        "--account",
        action="append",
        type=_account,
        default=[],
        metavar="SYSTEM_ID:API_KEY",
        help="credentials AUTH accepts (repeatable)",
    )
    parser.add_argument("--hostname", default="mmsc.simulator", help="name in the greeting and report addresses")
    parser.add_argument(
        "--receiver",
        type=_address,
        default=None,
        metavar="HOST:PORT",
        help="the platform's MM4 receiver, where delivery reports go",
    )
    parser.add_argument("--receiver-tls", action="store_true", help="implicit TLS to the receiver")
    parser.add_argument("--receiver-ca-file", default=None, help="CA bundle to verify the receiver with")
    parser.add_argument(
        "--receiver-auth", type=_account, default=None, metavar="USER:PASSWORD", help="AUTH at the receiver"
    )
    parser.add_argument("--report-delay", type=float, default=1.0, help="seconds before the delivery report")
    parser.add_argument(
        "--outcomes",
        type=_outcomes,
        default={"Retrieved": 100.0},
        help="X-Mms-MM-Status-Code weights, e.g. Retrieved=90,Rejected=5,Expired=5,none=0",
    )
    parser.add_argument("--no-forward-res", action="store_true", help="never send MM4_forward.RES")
    parser.add_argument(
        "--report-id",
        choices=REPORT_IDS,
        default="original",
        help="the id reports carry in X-Mms-Message-ID: the forward request's own (original, "
        "3GPP TS 23.140) or the id of '250 queued as <id>' (queued)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the outcome draw")
    parser.add_argument("--eml-dir", default="var/mm4-simulator", help="folder for the received .eml files")
    parser.add_argument(
        "--rcpt-reply",
        action="append",
        type=_reply,
        default=[],
        metavar="NUMBER=REPLY",
        help='answer RCPT TO for NUMBER with REPLY, e.g. "447700900001=450 4.2.1 busy"',
    )
    parser.add_argument(
        "--data-reply",
        action="append",
        type=_reply,
        default=[],
        metavar="NUMBER=REPLY",
        help="answer the data for NUMBER with REPLY instead of queueing it",
    )
    parser.add_argument("--max-message-bytes", type=int, default=2_000_000)


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """A stand-alone parser for ``python -m mms_transport.simulator``."""
    parser = argparse.ArgumentParser(prog=prog, description="MM4 (MMS over SMTP) provider simulator")
    add_simulator_arguments(parser)
    return parser


def config_from_options(options: Mapping[str, Any]) -> SimulatorConfig:
    """Turn parsed options (argparse namespace vars or Django's options) into a config."""
    accounts = dict(options.get("account") or [])
    if not accounts:
        raise ValueError("at least one --account SYSTEM_ID:API_KEY is required")
    tls_port = options.get("tls_port")
    ssl_context = None
    if tls_port is not None:
        if not options.get("tls_cert"):
            raise ValueError("--tls-port needs --tls-cert (and --tls-key)")
        ssl_context = server_tls_context(options["tls_cert"], options.get("tls_key"))
    port = options["port"]
    return SimulatorConfig(
        host=options["host"],
        port=None if port is not None and port < 0 else port,
        tls_port=tls_port,
        ssl_context=ssl_context,
        accounts=accounts,
        hostname=options["hostname"],
        receiver=options.get("receiver"),
        receiver_tls=bool(options.get("receiver_tls")),
        receiver_ca_file=options.get("receiver_ca_file"),
        receiver_auth=options.get("receiver_auth"),
        report_delay_s=options["report_delay"],
        outcomes=options["outcomes"],
        forward_res=not options.get("no_forward_res"),
        report_id=options.get("report_id") or "original",
        seed=options["seed"],
        eml_dir=options.get("eml_dir") or None,
        recipient_replies=dict(options.get("rcpt_reply") or []),
        data_replies=dict(options.get("data_reply") or []),
        max_message_bytes=options["max_message_bytes"],
        record_messages=False,
    )


def parse_config(argv: Sequence[str] | None = None) -> SimulatorConfig:
    """Parse ``argv`` into a config, exiting with a usage message on bad input."""
    parser = build_parser("python -m mms_transport.simulator")
    args = parser.parse_args(argv)
    try:
        return config_from_options(vars(args))
    except (ValueError, OSError) as exc:
        parser.error(str(exc))
        raise  # unreachable: parser.error exits


def describe(server: Any) -> str:
    """One line saying where the simulator listens (printed at start)."""
    where = [f"plain {server.config.host}:{server.port}"] if server.port is not None else []
    if server.tls_port is not None:
        where.append(f"TLS {server.config.host}:{server.tls_port}")
    receiver = server.config.receiver
    reports = f"reports to {receiver[0]}:{receiver[1]}" if receiver else "no receiver (reports off)"
    return f"MM4 simulator on {', '.join(where)}; {reports}"
