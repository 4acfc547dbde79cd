"""``manage.py smsc_simulator``: run the SMPP SMSC simulator for the demo.

Thin on purpose: the options and the server live in :mod:`smpp_transport.smsc`, which
does not import Django, so ``python -m smpp_transport.smsc`` behaves identically.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from smpp_transport.smsc.cli import add_simulator_arguments, config_from_options
from smpp_transport.smsc.runner import run_forever


class Command(BaseCommand):
    """Listen for SMPP binds until SIGINT/SIGTERM, then unbind everyone and exit."""

    help = "Run the SMPP 3.4 SMSC simulator (seed 000 behaviour)."

    def add_arguments(self, parser: CommandParser) -> None:
        """The same options as ``python -m smpp_transport.smsc``."""
        add_simulator_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        """Build the config and serve in the foreground until a signal."""
        try:
            config = config_from_options(options)
        except (ValueError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"SMSC simulator on {config.host}:{config.port} (Ctrl-C to stop)")
        run_forever(config)
