"""``python -m smpp_transport.smsc --account sys:pw ...``: the simulator without Django."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from .cli import parse_config
from .runner import run_forever


def main(argv: Sequence[str] | None = None) -> None:
    """Run the simulator in the foreground until SIGINT/SIGTERM."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    run_forever(parse_config(argv))


if __name__ == "__main__":
    main()
