"""Run a command as the terminal's foreground job, so Ctrl-C reaches it and not make.

``make run`` ends in honcho. On Ctrl-C the terminal sends SIGINT to its foreground process
group, which held make as well: make printed "*** [Makefile:29: serve] Error 130" (or
"Interrupt") over honcho's orderly shutdown. Here the command gets a process group of its
own and the terminal's foreground; this launcher (and make) wait, give the terminal back,
and treat the end by Ctrl-C (exit 130, or death by SIGINT/SIGTERM) as a normal stop.
Without a terminal the command simply runs.

    python -m config.foreground honcho start -f Procfile
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys

STOPPED_BY_USER = {0, 130, 143, -signal.SIGINT, -signal.SIGTERM}


def _terminal() -> int | None:
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            if os.isatty(stream.fileno()):
                return stream.fileno()
    return None


def run(command: list[str]) -> int:
    tty = _terminal()
    own_group = os.getpgrp()
    if tty is None:
        child = subprocess.Popen(command)
    else:
        signal.signal(signal.SIGTTOU, signal.SIG_IGN)  # allowed to hand the terminal over and back
        child = subprocess.Popen(command, process_group=0)
        with contextlib.suppress(OSError):
            os.tcsetpgrp(tty, child.pid)
    # A SIGINT that still reaches us (sent to make's whole group) is the child's to handle.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        code = child.wait()
    finally:
        if tty is not None:
            with contextlib.suppress(OSError):
                os.tcsetpgrp(tty, own_group)
    if code in STOPPED_BY_USER:
        print("Stopped.", file=sys.stderr)
        return 0
    return code


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
