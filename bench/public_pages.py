"""Anonymous public pages against /healthz on the same gunicorn, measured with wrk (goal: contest page ≥ 0.5×).

Usage: .venv/bin/python bench/public_pages.py [--seconds 10] [--rounds 2] [--connections 32] [--threads 2]
       [--version-seconds S]   (PAGE_VERSION_SECONDS of the portal; unset: the portal's default)

Starts its own Redis, `rclone serve s3` and gunicorn (2 workers × 4 threads, as `devtools.services.start_web` and
`make run`) on free ports over a fresh SQLite database with the demo contest (DATABASE_URL=postgresql://… measures on
PostgreSQL instead: that database's schema is dropped and recreated). Then runs `wrk -t2 -c32` for --seconds on
/healthz and on each page, one after the other, --rounds times in alternation, and prints requests/s and the ratio
to /healthz of the same round. Needs `wrk` (Debian: `apt-get install wrk`).

Besides requests/s it reports the server's CPU time per request (user + system time of the gunicorn master and
workers, from /proc, over each wrk run) and its ratio to /healthz's: wrk runs on the same machine, and on a shared,
loaded machine the requests/s ratio swings from round to round while the CPU per request stays comparable.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.procstat import cpu_seconds, tree  # noqa: E402
from devtools.services import start_redis, start_s3, start_web, stop_processes  # noqa: E402

PAGES = ["/c/demo", "/c/demo/news", "/c/demo/winners"]


def wrk(url: str, seconds: int, connections: int, threads: int, server_pid: int) -> tuple[float, float, str]:
    """Requests per second of `wrk` on url, the server's CPU milliseconds per request, and wrk's latency line."""
    cpu_before = cpu_seconds(tree(server_pid))
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    cpu = cpu_seconds(tree(server_pid)) - cpu_before
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{url}: {errors.group(1)} non-2xx answers\n{out}")
    latency = re.search(r"Latency\s+(\S+)", out)
    p99 = re.search(r"99%\s+(\S+)", out)
    return (
        rate,
        1000 * cpu / max(requests, 1),
        f"mean {latency.group(1) if latency else '?'}, p99 {p99.group(1) if p99 else '?'}",
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--version-seconds", type=float, default=0, help="PAGE_VERSION_SECONDS of the portal")
    parser.set_defaults(version_seconds=None)  # unset: the portal's own default
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk not found: apt-get install wrk", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="bench-public-"))
    procs: list[subprocess.Popen] = []
    try:
        redis, redis_url = start_redis(tmp / "redis")
        procs.append(redis)
        s3, s3_url = start_s3(tmp / "s3", "bench-access-key", "bench-secret-key-1234")
        procs.append(s3)
        env = dict(
            os.environ,
            SECRET_KEY=secrets.token_urlsafe(48),
            DATABASE_URL=os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3",
            REDIS_URL=redis_url,
            S3_ENDPOINT_URL=s3_url,
            AWS_ACCESS_KEY_ID="bench-access-key",
            AWS_SECRET_ACCESS_KEY="bench-secret-key-1234",  # noqa: S106 - a throwaway local store
            S3_BUCKET="bench-public",
            PUBLIC_URL="http://127.0.0.1:5000",
        )
        env.pop("PAGE_VERSION_SECONDS", None)
        if args.version_seconds is not None:
            env["PAGE_VERSION_SECONDS"] = str(args.version_seconds)
        if env["DATABASE_URL"].startswith("postgresql"):
            from sqlalchemy import text

            from app.db import make_engine

            with make_engine(env["DATABASE_URL"]).begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
        for cmd in (["db", "upgrade"], ["storage", "init"], ["demo", "seed"]):
            subprocess.run(flask + cmd, cwd=ROOT, env=env, check=True, capture_output=True)
        log = open(tmp / "gunicorn.log", "wb")  # noqa: SIM115 - closed with the process
        web, base = start_web(env, log, cwd=ROOT)
        procs.append(web)
        pages = [p for p in PAGES if _ok(base + p)]  # the winners page only once results are published
        rates: dict[str, list[float]] = {p: [] for p in ["/healthz", *pages]}
        cpus: dict[str, list[float]] = {p: [] for p in ["/healthz", *pages]}
        ratios: dict[str, list[float]] = {p: [] for p in pages}
        cpu_ratios: dict[str, list[float]] = {p: [] for p in pages}
        for _round in range(args.rounds):
            health, health_cpu, detail = wrk(base + "/healthz", args.seconds, args.connections, args.threads, web.pid)
            rates["/healthz"].append(health)
            cpus["/healthz"].append(health_cpu)
            print(f"  /healthz {health:8.1f} req/s, {health_cpu:.2f} CPU ms/req ({detail})", flush=True)
            for page in pages:
                rate, cpu, detail = wrk(base + page, args.seconds, args.connections, args.threads, web.pid)
                rates[page].append(rate)
                cpus[page].append(cpu)
                ratios[page].append(rate / health)
                cpu_ratios[page].append(health_cpu / cpu)
                print(
                    f"  {page} {rate:8.1f} req/s  {rate / health:.2f}× /healthz, {cpu:.2f} CPU ms/req",
                    f"{health_cpu / cpu:.2f}× /healthz's CPU throughput ({detail})",
                    flush=True,
                )
        load = os.getloadavg()
        print(
            f"\nwrk -t{args.threads} -c{args.connections} -d{args.seconds}s, {args.rounds} rounds, gunicorn 2×4,",
            f"PAGE_VERSION_SECONDS={env.get('PAGE_VERSION_SECONDS', 'default')}, {env['DATABASE_URL'].split(':')[0]}",
        )
        print(f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} ({os.cpu_count()} CPUs)")
        print("| path | req/s (median) | × /healthz (median) | server CPU ms/req (median) | /healthz CPU ÷ page CPU |")
        print("| --- | ---: | ---: | ---: | ---: |")
        health_rate, health_cpu = statistics.median(rates["/healthz"]), statistics.median(cpus["/healthz"])
        print(f"| /healthz | {health_rate:.0f} | 1.00 | {health_cpu:.2f} | 1.00 |")
        for page in pages:
            print(
                f"| {page} | {statistics.median(rates[page]):.0f} | {statistics.median(ratios[page]):.2f}",
                f"| {statistics.median(cpus[page]):.2f} | {statistics.median(cpu_ratios[page]):.2f} |",
            )
        ok = statistics.median(ratios["/c/demo"]) >= 0.5
        print(f"goal /c/demo ≥ 0.5× /healthz: {'PASS' if ok else 'FAIL'}")
        return 0 if ok else 1
    finally:
        stop_processes(procs, timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


def _ok(url: str) -> bool:
    try:
        return urllib.request.urlopen(url).status == 200  # noqa: S310 - our own local server
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(main())
