"""CPU time and process trees from Linux /proc, for the bench scripts (proc(5): /proc/<pid>/stat, …/children)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")  # clock ticks per second, the unit of the CPU times in /proc/<pid>/stat


def stat_of(pid: int | str) -> tuple[str, list[str]] | None:
    """(comm, the fields after it) of /proc/<pid>/stat, or None when the process is gone. fields[0] is the state,
    fields[1] the parent's pid, fields[11:15] utime, stime, cutime, cstime, fields[19] the start time."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()


def tree(pid: int) -> list[int]:
    """pid and its descendants."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        try:
            todo.extend(int(c) for c in Path(f"/proc/{current}/task/{current}/children").read_text().split())
        except OSError:
            continue
    return out


def cpu_seconds(pids: Iterable[int], *, waited_children: bool = False) -> float:
    """User + system CPU seconds of the processes that are still there; with waited_children, also that of their
    children that exited and were waited for (cutime + cstime)."""
    ticks = 0
    for pid in pids:
        stat = stat_of(pid)
        if stat is not None:
            ticks += sum(int(f) for f in stat[1][11 : 15 if waited_children else 13])
    return ticks / TICK
