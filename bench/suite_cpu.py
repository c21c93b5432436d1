"""Where a command's CPU goes, by kind of process: by default `make test`, the whole suite.

    .venv/bin/python bench/suite_cpu.py [--every 0.1] [-- make test TEST_WORKERS=3]

Runs the command while reading every process's CPU time (`/proc/<pid>/stat`, user + sys) every `--every` seconds and
the machine's busy share (`/proc/stat`). Prints the wall time, how busy the cores were, and the CPU-s and process
count of each kind (gunicorn, each `flask` command, the pytest workers, ffmpeg, Chromium, …), largest first.

The kinds add up to less than the machine's busy time: a process that lives less than one sampling period is missed,
and a process's CPU after its last sample is lost. `/usr/bin/time` undercounts more: it sees only the descendants
that their parents waited for, not Chromium's re-parented children nor daemons. docs/testing.md ("The suite on
2026-12-04, evening") has a run's figures."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.procstat import TICK, stat_of  # noqa: E402


def kind(comm: str, cmdline: list[str]) -> str:
    """A short name for what a process is, from its command line."""
    text = " ".join(cmdline)
    program = Path(cmdline[0]).name if cmdline else comm
    if comm in ("ffmpeg", "ffprobe", "unshare", "rclone", "redis-server", "nginx", "postgres"):
        return f"{comm} (test clips)" if "lavfi" in text else comm
    if "chrom" in comm or program.startswith("chrom") or "/chromium" in text:
        return "chromium"
    if "playwright" in text:
        return "playwright driver"
    if "gunicorn" in text:
        return "gunicorn (master and workers)"
    if "--app" in cmdline and "wsgi" in cmdline:
        words = [w for w in cmdline[cmdline.index("wsgi") + 1 :] if not w.startswith("-")][:2]
        return "flask " + " ".join(words[:1] if words[:1] in (["worker"], ["demo"]) else words)
    if "exec(eval(sys.stdin" in text:
        return "pytest-xdist workers (the tests' own work)"
    if program.startswith("python"):
        script = next((w for w in cmdline[1:] if not w.startswith("-")), "")
        module = cmdline[cmdline.index("-m") + 1] if "-m" in cmdline[:-1] else ""
        return f"python {module or Path(script).name}".rstrip()
    return re.sub(r"[/:].*", "", comm) or "?"


def read_processes() -> dict[tuple[str, str], tuple[float, str, list[str]]]:
    """(pid, start time) → (CPU-s so far, comm, argv) of every process now."""
    found = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or (stat := stat_of(pid)) is None:
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                argv = [a.decode(errors="replace") for a in fh.read().split(b"\0") if a]
        except OSError:  # gone meanwhile
            continue
        comm, fields = stat
        found[(pid, fields[19])] = ((int(fields[11]) + int(fields[12])) / TICK, comm, argv)
    return found


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all cores since boot; iowait counts as idle."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:9]]
    return sum(values) - values[3] - values[4], sum(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=float, default=0.1, help="seconds between samples")
    parser.add_argument("command", nargs="*", default=["make", "test"])
    args = parser.parse_args()

    before = read_processes()
    busy0, total0 = machine_ticks()
    started = time.monotonic()
    proc = subprocess.Popen(args.command, cwd=ROOT)
    seen: dict[tuple[str, str], list] = {}  # key → [CPU at first sight (0 if born later), latest CPU, comm, argv]
    while proc.poll() is None:
        for key, (now, comm, argv) in read_processes().items():
            if key in seen:
                seen[key][1] = now
            else:
                seen[key] = [now if key in before else 0.0, now, comm, argv]
        time.sleep(args.every)
    wall = time.monotonic() - started
    busy1, total1 = machine_ticks()

    cpu: Counter[str] = Counter()
    count: Counter[str] = Counter()
    for first, last, comm, argv in seen.values():
        if last > first:
            name = kind(comm, argv)
            cpu[name] += last - first
            count[name] += 1
    cores = os.cpu_count() or 1
    print(f"command: {' '.join(args.command)} (exit status {proc.returncode})")
    print(f"wall: {wall:.1f} s; cores busy: {100 * (busy1 - busy0) / max(1, total1 - total0):.0f} % of {cores}")
    print(f"machine CPU: {(busy1 - busy0) / TICK:.0f} CPU-s; by process kind: {sum(cpu.values()):.0f} CPU-s")
    for name, seconds in cpu.most_common():
        if seconds >= 0.5:
            print(f"{seconds:8.1f} CPU-s {count[name]:5d} processes  {name}")
    sys.exit(proc.returncode)


if __name__ == "__main__":
    main()
