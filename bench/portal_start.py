"""CPU and time one gunicorn portal (master + workers) costs to start, with the project's gunicorn.conf.py (the app
preloaded in the master, workers forked from it) and without any config file (each worker imports and builds the app).

    .venv/bin/python bench/portal_start.py [--runs 5] [--workers 2]

Prints, per variant, the median seconds until /healthz answers and the median CPU-s (user + sys) of the master and its
workers once it does, read from /proc. The browser tests start about 25 such portals per run (docs/testing.md)."""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.portal_env import ROOT, scratch, start_portal_services  # noqa: E402
from bench.procstat import cpu_seconds, tree  # noqa: E402
from devtools.services import free_port, stop_processes, wait_http  # noqa: E402


def start_once(config: list[str], workers: int, log) -> tuple[float, float]:
    """Start gunicorn, wait for /healthz, and return (seconds, CPU-s of its process tree); then stop it."""
    port = free_port()
    started = time.monotonic()
    web = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            *config,
            *["--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", "4"],
            "--no-control-socket",
            "wsgi:app",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", web, timeout=300)
        seconds = time.monotonic() - started
        return seconds, cpu_seconds(tree(web.pid))
    finally:
        stop_processes([web], timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tmp", default=None, help="parent of the scratch directory")
    args = parser.parse_args()
    with scratch("bench-portal-start-", args.tmp) as (tmp, procs, logs):
        start_portal_services(tmp, procs)
        empty = tmp / "no-gunicorn-conf.py"
        empty.write_text("")
        variants = {"preload (gunicorn.conf.py)": [], "no preload (empty config)": ["--config", str(empty)]}
        log = open(tmp / "gunicorn.log", "wb")  # noqa: SIM115 - closed by scratch()
        logs.append(log)
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
        for _ in range(args.runs):  # alternate, so that a machine slowing down weighs on both alike
            for name, config in variants.items():
                results[name].append(start_once(config, args.workers, log))
    print(f"gunicorn --workers {args.workers}, {args.runs} starts each, medians:")
    for name, runs in results.items():
        seconds = statistics.median(s for s, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"  {name:28} ready in {seconds:5.2f} s, {cpu:5.2f} CPU-s")


if __name__ == "__main__":
    main()
