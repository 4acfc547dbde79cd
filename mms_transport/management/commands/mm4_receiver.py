"""``manage.py mm4_receiver``: accept MM4 delivery reports and forward responses into the inbox.

Every credential comes from the environment (``MM4_RECEIVER_AUTH``, read by
config/settings.py) or from the accounts (their MM4 inbound login, set in the admin), never
from the command line, where ``ps`` shows it. docs/mms.md, "Who may deliver reports".
"""

from __future__ import annotations

import asyncio
import signal
import ssl
import weakref
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from mms_transport.receiver import (
    ReceiverConfig,
    ReceiverConfigError,
    account_logins,
    platform_handler,
    shut_down,
    start_server,
)
from mms_transport.receiver_security import parse_networks


def _tls(cert: str | None, key: str | None) -> ssl.SSLContext | None:
    if not cert:
        if key:
            raise ValueError("MM4_RECEIVER_TLS_KEY is set but MM4_RECEIVER_TLS_CERT is not")
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key or None)
    return context


def receiver_config(options: dict[str, Any]) -> ReceiverConfig:
    """The receiver's configuration from the settings and the command's options."""
    cert = options.get("tls_cert") or settings.MM4_RECEIVER_TLS_CERT
    key = options.get("tls_key") or settings.MM4_RECEIVER_TLS_KEY
    return ReceiverConfig(
        host=options["host"],
        port=options["port"],
        hostname=options["hostname"],
        ssl_context=_tls(cert, key),
        auth=dict(settings.MM4_RECEIVER_AUTH),
        account_logins=account_logins,
        require_auth=not options.get("insecure_local_demo"),
        plain_auth_loopback=settings.MM4_RECEIVER_PLAIN_AUTH_LOOPBACK,
        allow=parse_networks(settings.MM4_RECEIVER_ALLOW),
        auth_failure_limit=settings.MM4_RECEIVER_AUTH_FAILURE_LIMIT,
        auth_cooloff_s=settings.MM4_RECEIVER_AUTH_COOLOFF_S,
        credentials_refresh_s=settings.MM4_RECEIVER_CREDENTIALS_REFRESH_S,
    )


class Command(BaseCommand):
    """Listen until SIGINT/SIGTERM; every report is stored before it is acknowledged."""

    help = "Receive MM4_delivery_report.REQ and MM4_forward.RES (SMTP, AUTH required) into the receipt inbox."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=2526, help="0 = ephemeral (see --port-file)")
        parser.add_argument("--port-file", default=None, help="write the bound port here once listening")
        parser.add_argument(
            "--system-id", default=None, help="file every report under this account (default: by recipient domain)"
        )
        parser.add_argument("--tls-cert", default=None, help="PEM certificate chain (default MM4_RECEIVER_TLS_CERT)")
        parser.add_argument("--tls-key", default=None, help="PEM private key (default MM4_RECEIVER_TLS_KEY)")
        parser.add_argument("--hostname", default="mm4-receiver")
        parser.add_argument(
            "--insecure-local-demo",
            action="store_true",
            help="take reports WITHOUT AUTH (a loopback --host only); such reports never "
            "wait for a message that has no answer yet",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            config = receiver_config(options)
            handler = platform_handler(system_id=options["system_id"])
        except (ValueError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        try:
            asyncio.run(self._serve(handler, config, options["port_file"]))
        except ReceiverConfigError as exc:
            raise CommandError(f"refusing to start: {exc}") from None
        finally:
            handler.close()

    async def _serve(self, handler: Any, config: ReceiverConfig, port_file: str | None) -> None:
        connections: weakref.WeakSet = weakref.WeakSet()
        server = await start_server(handler, config, connections)  # refuses an unsafe config first
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        port = server.sockets[0].getsockname()[1]
        if port_file:
            tmp = Path(f"{port_file}.tmp")
            tmp.write_text(str(port))
            tmp.replace(port_file)  # atomic: a reader never sees a half-written port
        scheme = "TLS" if config.ssl_context else "plain"
        auth = "AUTH required" if config.require_auth else "NO AUTH (--insecure-local-demo)"
        self.stdout.write(f"MM4 receiver on {config.host}:{port} ({scheme}, {auth})")
        try:
            await stop.wait()
        finally:
            await shut_down(server, connections)
