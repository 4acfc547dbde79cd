"""``manage.py mm4_receiver``: accept MM4 delivery reports and forward responses into the inbox."""

from __future__ import annotations

import asyncio
import signal
import ssl
import weakref
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mms_transport.receiver import ReceiverConfig, platform_handler, shut_down, start_server


def _user(value: str) -> tuple[str, str]:
    user, sep, password = value.partition(":")
    if not sep or not user:
        raise ValueError(f"expected USER:PASSWORD, got {value!r}")
    return user, password


def _tls(cert: str | None, key: str | None) -> ssl.SSLContext | None:
    if not cert:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


class Command(BaseCommand):
    """Listen until SIGINT/SIGTERM; every report is stored before it is acknowledged."""

    help = "Receive MM4_delivery_report.REQ and MM4_forward.RES (SMTP) into the receipt inbox."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=2526, help="0 = ephemeral (see --port-file)")
        parser.add_argument("--port-file", default=None, help="write the bound port here once listening")
        parser.add_argument("--system-id", default=None,
                            help="file every report under this account (default: by recipient domain)")  # fmt: skip
        parser.add_argument("--auth", action="append", default=[], metavar="USER:PASSWORD",
                            help="require AUTH with these credentials (repeatable)")  # fmt: skip
        parser.add_argument("--tls-cert", default=None, help="PEM certificate: implicit TLS")
        parser.add_argument("--tls-key", default=None)
        parser.add_argument("--hostname", default="mm4-receiver")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            config = ReceiverConfig(
                host=options["host"], port=options["port"], hostname=options["hostname"],
                ssl_context=_tls(options["tls_cert"], options["tls_key"]),
                auth=dict(_user(v) for v in options["auth"]),
            )  # fmt: skip
            handler = platform_handler(system_id=options["system_id"])
        except (ValueError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        asyncio.run(self._serve(handler, config, options["port_file"]))

    async def _serve(self, handler: Any, config: ReceiverConfig, port_file: str | None) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        connections: weakref.WeakSet = weakref.WeakSet()
        server = await start_server(handler, config, connections)
        port = server.sockets[0].getsockname()[1]
        if port_file:
            tmp = Path(f"{port_file}.tmp")
            tmp.write_text(str(port))
            tmp.replace(port_file)  # atomic: a reader never sees a half-written port
        scheme = "TLS" if config.ssl_context else "plain"
        self.stdout.write(f"MM4 receiver on {config.host}:{port} ({scheme}, AUTH {'on' if config.auth else 'off'})")
        try:
            await stop.wait()
        finally:
            await shut_down(server, connections)
            handler.executor.shutdown(wait=True)
