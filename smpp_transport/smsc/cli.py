"""Command-line options of the simulator, shared by ``manage.py smsc_simulator`` and
``python -m smpp_transport.smsc`` so both accept exactly the same arguments."""

from __future__ import annotations

import argparse
import ssl
from collections.abc import Mapping, Sequence
from typing import Any

from .config import ID_FORMATS, RECEIPT_MODES, SimulatorConfig


def _account(value: str) -> tuple[str, str]:
    system_id, sep, password = value.partition(":")
    if not sep or not system_id:
        raise argparse.ArgumentTypeError(f"expected SYSTEM_ID:PASSWORD, got {value!r}")
    return system_id, password


def _outcomes(value: str) -> dict[str, float]:
    outcomes: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in value.split(","))):
        stat, sep, weight = part.partition("=")
        try:
            outcomes[stat.strip()] = float(weight) if sep else 1.0
        except ValueError:
            raise argparse.ArgumentTypeError(f"bad weight in {part!r}") from None
    if not outcomes:
        raise argparse.ArgumentTypeError("expected STAT=WEIGHT[,STAT=WEIGHT...]")
    return outcomes


def add_simulator_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the simulator's options to ``parser`` (argparse or Django's CommandParser)."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=2775, help="port (0 = ephemeral)")
    parser.add_argument(
        "--account",
        action="append",
        type=_account,
        default=[],
        metavar="SYSTEM_ID:PASSWORD",
        help="an account allowed to bind (repeatable)",
    )
    parser.add_argument("--rate", type=float, default=50.0, help="submit_sm/s per bind, 0 = off")
    parser.add_argument("--dlr-delay", type=float, default=1.0, help="seconds before a receipt")
    parser.add_argument(
        "--outcomes",
        type=_outcomes,
        default={"DELIVRD": 100.0},
        help=(
            "receipt stat weights, e.g. DELIVRD=90,UNDELIV=5,none=5; none = that share gets no receipt "
            "at all, as real providers do for a few percent (the submit log's 'receipt' is then null)"
        ),
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the outcome draw")
    parser.add_argument("--id-format", choices=ID_FORMATS, default="hex")
    parser.add_argument("--receipt-id-format", choices=ID_FORMATS, default=None)
    parser.add_argument("--receipt-id-zero-pad", type=int, default=0)
    parser.add_argument("--receipt-mode", choices=RECEIPT_MODES, default="tlv+text")
    parser.add_argument("--resp-delay", type=float, default=0.0, help="delay submit_sm_resp")
    parser.add_argument("--tls-cert", default=None, help="PEM certificate: listen with TLS")
    parser.add_argument("--tls-key", default=None, help="PEM private key (with --tls-cert)")
    parser.add_argument("--log", default=None, metavar="PATH", help="JSON-lines submit log")
    parser.add_argument("--extra-tlv", action="store_true", help="add a vendor TLV (0x1400) to receipts")
    parser.add_argument("--enquire-link-timeout", type=float, default=None, help="ping/close silent binds")
    parser.add_argument(
        "--max-binds-per-system-id",
        type=int,
        default=0,
        help="bound sessions allowed at once per system_id; more get ESME_RBINDFAIL (0 = unlimited)",
    )


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """A stand-alone parser for ``python -m smpp_transport.smsc``."""
    parser = argparse.ArgumentParser(prog=prog, description="SMPP 3.4 SMSC simulator")
    add_simulator_arguments(parser)
    return parser


def config_from_options(options: Mapping[str, Any]) -> SimulatorConfig:
    """Turn parsed options (argparse namespace vars or Django's options) into a config."""
    ssl_context = None
    if options.get("tls_cert"):
        ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_context.load_cert_chain(options["tls_cert"], options.get("tls_key"))
    accounts = dict(options.get("account") or [])
    if not accounts:
        raise ValueError("at least one --account SYSTEM_ID:PASSWORD is required")
    return SimulatorConfig(
        host=options["host"],
        port=options["port"],
        accounts=accounts,
        rate_per_bind=options["rate"],
        dlr_delay_s=options["dlr_delay"],
        outcomes=options["outcomes"],
        seed=options["seed"],
        id_format=options["id_format"],
        receipt_id_format=options.get("receipt_id_format"),
        receipt_id_zero_pad=options.get("receipt_id_zero_pad") or 0,
        receipt_mode=options["receipt_mode"],
        resp_delay_s=options["resp_delay"],
        ssl_context=ssl_context,
        log_path=options.get("log"),
        extra_tlv_in_receipts=bool(options.get("extra_tlv")),
        enquire_link_timeout_s=options.get("enquire_link_timeout"),
        max_binds_per_system_id=options.get("max_binds_per_system_id") or 0,
        record_submits=False,
    )


def parse_config(argv: Sequence[str] | None = None) -> SimulatorConfig:
    """Parse ``argv`` into a config, exiting with a usage message on bad input."""
    parser = build_parser("python -m smpp_transport.smsc")
    args = parser.parse_args(argv)
    try:
        return config_from_options(vars(args))
    except (ValueError, OSError) as exc:
        parser.error(str(exc))
        raise  # unreachable: parser.error exits
