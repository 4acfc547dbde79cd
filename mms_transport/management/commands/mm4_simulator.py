"""``manage.py mm4_simulator``: run the MM4 provider simulator for the demo.

Thin on purpose: the options and the server live in :mod:`mms_transport.simulator`, which
does not import Django, so ``python -m mms_transport.simulator`` behaves identically.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mms_transport.simulator.cli import add_simulator_arguments, config_from_options, describe
from mms_transport.simulator.runner import run_forever


class Command(BaseCommand):
    """Accept MM4 over SMTP until SIGINT/SIGTERM, sending delivery reports to the receiver."""

    help = "Run the MM4 (MMS over SMTP) provider simulator (seed 001 behaviour)."

    def add_arguments(self, parser: CommandParser) -> None:
        """The same options as ``python -m mms_transport.simulator``."""
        add_simulator_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        """Build the config and serve in the foreground until a signal."""
        try:
            config = config_from_options(options)
        except (ValueError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        run_forever(config, on_ready=lambda server: self.stdout.write(describe(server)))
