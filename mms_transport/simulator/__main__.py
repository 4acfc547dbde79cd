"""``python -m mms_transport.simulator --account sys:key ...``: the simulator without Django."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from .cli import describe, parse_config
from .runner import run_forever


def main(argv: Sequence[str] | None = None) -> None:
    """Run the simulator in the foreground until SIGINT/SIGTERM."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    run_forever(parse_config(argv), on_ready=lambda server: print(describe(server), flush=True))


if __name__ == "__main__":
    main()
