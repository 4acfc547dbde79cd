"""Processes as /proc tells them: CPU, memory and descendants (benchmarks run on Linux)."""

from __future__ import annotations

import collections
import os
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def proc_stat(pid: int) -> tuple[int, float, int] | None:
    """(parent pid, user+system CPU seconds, RSS in kB) of a live process, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK, int(fields[21]) * PAGE_KB


def descendants(root: int) -> dict[int, tuple[float, int]]:
    """Every live descendant of ``root``: pid → (CPU seconds, RSS kB)."""
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (st := proc_stat(int(entry))) is not None:
            stats[int(entry)] = st
    children: dict[int, list[int]] = collections.defaultdict(list)
    for pid, (ppid, _, _) in stats.items():
        children[ppid].append(pid)
    out, todo = {}, list(children[root])
    while todo:
        pid = todo.pop()
        out[pid] = stats[pid][1:]
        todo.extend(children[pid])
    return out


def alive(pid: int) -> bool:
    """The process exists and is not a zombie (exited, not yet reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False
