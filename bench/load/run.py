"""Run one load scenario against the production command on this machine, and print the per-endpoint table.

Usage: .venv/bin/python bench/load/run.py rush|judging|results [--users N] [--spawn-rate R] [--duration 180]
                                          [--worker] [--scale K] [--probe-requests 500] [--probe-only]

Starts a private Redis and `rclone serve s3` (devtools/services.py), recreates the PostgreSQL database
LOAD_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test_load: its schema is dropped), seeds it (`flask
--app wsgi db upgrade`, `storage init`, `demo seed` (`--published` for results night), then bench/load/seed.py)
and serves it with the command of docs/deploy.md: `gunicorn -w 4 --threads 4 --timeout 900 wsgi:app`
(gunicorn.conf.py applies).
--worker also runs one `flask --app wsgi worker --queue clips` (MEDIA_FFMPEG_THREADS=1), busy with the rush's uploads
or, in the other scenarios, with long 1080p clips seeded for it.

Before the load, the server's CPU per request is measured alone, endpoint by endpoint: the CPU time of the gunicorn
workers (/proc/<pid>/stat) over 500 requests per endpoint (--probe-requests) from 4 threads after a warm-up, divided
by the requests, and given relative to /healthz measured the same way. The endpoints take turns in 5 rounds of 100
requests, /healthz first in each, so that the other processes of a shared machine weigh on all alike. The CPU clock
ticks every 10 ms: 500 requests of /healthz (about 0.7 ms each) are some 35 ticks (100, the former default, gave
ratios that moved by ±0.3 from the ticks alone; on a busy shared machine a ratio still moves by ±0.2 between runs,
most of it in /healthz: compare several runs). --probe-only stops there. Then locust runs headless: the users spawn
at --spawn-rate, the statistics restart once all have spawned (--reset-stats), and the load lasts --duration seconds
after that. Exit status 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.procstat import cpu_seconds  # noqa: E402
from bench.upload import worker_pids  # noqa: E402
from devtools.services import free_port, start_redis, start_s3, stop_processes, wait_http  # noqa: E402

HERE = Path(__file__).resolve().parent
# City scale: users, spawn rate (users/s) and the user classes of each scenario.
SCENARIOS = {
    "rush": (300, 5, ["UnitUser"]),
    "judging": (30, 2, ["JudgeUser"]),
    "results": (502, 10, ["OrganiserUser", "VisitorUser"]),
}
GOAL_P95_MS = 150
GOAL_CPU_RATIO = 2.0
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def gunicorn_cpu_ms(master: int) -> float:
    """CPU time (user + system) of the gunicorn master's children, the workers, in milliseconds."""
    return 1000 * cpu_seconds(worker_pids(master))


def login(base: str, email: str, password: str):
    import requests

    session = requests.Session()
    token = CSRF_RE.search(session.get(base + "/login").text).group(1)  # type: ignore[union-attr]
    answer = session.post(
        base + "/login", data={"email": email, "password": password, "csrf_token": token}, allow_redirects=False
    )
    if answer.status_code != 302:
        raise RuntimeError(f"login of {email}: {answer.status_code}")
    return session


def cpu_of_requests(master: int, base: str, url: str, cookies, headers: dict, count: int = 500) -> tuple[float, int]:
    """The workers' CPU milliseconds over count requests of url (rounded down to a multiple of 4) from 4 threads with
    keep-alive connections, and the number of requests."""
    import requests

    def run(session, n: int) -> None:
        for _ in range(n):
            answer = session.get(base + url, headers=headers)
            if answer.status_code >= 400:
                raise RuntimeError(f"{url}: {answer.status_code}")

    per_thread = max(1, count // 4)
    sessions = [requests.Session() for _ in range(4)]
    for session in sessions:
        session.cookies.update(cookies)
    try:
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(run, sessions, [4] * 4))  # connections opened (and kept alive): not measured
            before = gunicorn_cpu_ms(master)
            list(pool.map(run, sessions, [per_thread] * 4))
    finally:
        for session in sessions:
            session.close()
    return gunicorn_cpu_ms(master) - before, per_thread * 4


def measure_cpu(
    master: int, base: str, probes: dict[str, tuple[str, object, dict]], count: int, rounds: int = 5
) -> dict[str, float]:
    """CPU milliseconds per request of each probe: count requests each, in `rounds` interleaved rounds (/healthz, the
    yardstick, then each endpoint, and again), so that the other processes of a shared machine, which change how much
    CPU a request takes, weigh on every endpoint alike. After a warm-up round (lazy imports, caches, connections)."""
    for probe in probes.values():
        cpu_of_requests(master, base, *probe, 48)
    spent = dict.fromkeys(probes, 0.0)
    made = dict.fromkeys(probes, 0)
    for _ in range(rounds):
        for name, probe in probes.items():
            ms, n = cpu_of_requests(master, base, *probe, count // rounds)
            spent[name] += ms
            made[name] += n
    cpu = {name: spent[name] / made[name] for name in probes}
    for name, ms in cpu.items():
        print(f"  {name}: {ms:.3f} ms ({ms / cpu['GET /healthz']:.2f}× /healthz, {made[name]} requests)", flush=True)
    return cpu


def cpu_probes(scenario: str, base: str, seed: dict) -> dict[str, tuple[str, object, dict]]:
    """One sample request per GET endpoint of the scenario: name -> (url, cookies, headers)."""
    import requests

    probes: dict[str, tuple[str, object, dict]] = {
        "GET /healthz": ("/healthz", requests.cookies.cookiejar_from_dict({}), {})
    }
    if scenario == "rush":
        user = login(base, seed["rush"]["probe"], seed["password"])  # a unit of its own: no locust user's places
        entry = seed["rush"]["probe_entry"]  # with a processed clip
        probes["GET /unit/ (dashboard)"] = ("/unit/", user.cookies, {})
        probes["GET /unit/entries/[id]"] = (f"/unit/entries/{entry}", user.cookies, {})
        probes["GET /unit/entries/[id]/status.json"] = (f"/unit/entries/{entry}/status.json", user.cookies, {})
    elif scenario == "judging":
        judge = login(base, seed["judging"]["users"][-1], seed["password"])
        rnd, entry = seed["judging"]["round_id"], seed["judging"]["entry_ids"][-1]
        probes["GET /judge/ (dashboard)"] = ("/judge/", judge.cookies, {})
        probes["GET /judge/rounds/[id]/entries/[id]"] = (f"/judge/rounds/{rnd}/entries/{entry}", judge.cookies, {})
    else:
        slug = seed["results"]["slug"]
        organiser = login(base, seed["results"]["organiser"], seed["demo_password"])
        anonymous = requests.cookies.cookiejar_from_dict({})
        clip = re.search(r"/media/clips/(\d+)/play\.mp4", requests.get(base + f"/c/{slug}/winners").text)
        probes["GET /org/rounds/[id]/results"] = (
            f"/org/rounds/{seed['results']['round_id']}/results",
            organiser.cookies,
            {},
        )
        probes["GET /c/[slug]"] = (f"/c/{slug}", anonymous, {})
        probes["GET /c/[slug]/winners"] = (f"/c/{slug}/winners", anonymous, {})
        if clip:
            probes["GET /media/clips/[id]/play.mp4 (first MiB)"] = (
                f"/media/clips/{clip.group(1)}/play.mp4",
                anonymous,
                {"Range": "bytes=0-1048575"},
            )
    return probes


def reset_database(url: str) -> None:
    """Create the database when missing, and give it an empty public schema."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}):
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
    engine = create_engine(target)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def make_small_clip(path: Path) -> Path:
    """The clip that unit users upload: 4 s, 426x240, about 100 KB (one part)."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=426x240:rate=25"]
        + ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", "4"]
        + ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)],
        check=True,
    )
    return path


def print_table(rows: list[dict], cpu: dict[str, float]) -> list[str]:
    """The per-endpoint table (Markdown); returns the goals missed."""
    health = cpu.get("GET /healthz") or float("nan")
    missed = []
    print("| endpoint | requests | req/s | p50 ms | p95 ms | p99 ms | errors | CPU ms/req | × /healthz |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        name = row["Name"]
        own = cpu.get(name)
        ratio = f"{own / health:.2f}" if own is not None else ""
        print(
            f"| {name} | {row['Request Count']} | {float(row['Requests/s']):.1f} | {row['50%']} | {row['95%']} |"
            f" {row['99%']} | {row['Failure Count']} | {f'{own:.1f}' if own is not None else ''} | {ratio} |"
        )
        if name == "Aggregated":
            continue
        if int(row["Failure Count"]):
            missed.append(f"{name}: {row['Failure Count']} errors")
        page_view = name.startswith("GET ") and "(first MiB)" not in name and "/login" not in name
        if page_view and float(row["95%"]) > GOAL_P95_MS:
            missed.append(f"{name}: p95 {row['95%']} ms > {GOAL_P95_MS} ms")
        cheap = name.endswith("status.json") or name in ("GET /c/[slug]", "GET /c/[slug]/winners")
        if cheap and own is not None and own / health > GOAL_CPU_RATIO:
            missed.append(f"{name}: CPU {own / health:.2f}× /healthz > {GOAL_CPU_RATIO}×")
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--users", type=int, help="default: the city scale of the scenario (× --scale)")
    parser.add_argument("--spawn-rate", type=float)
    parser.add_argument("--duration", type=int, default=180, help="seconds of load after all users have spawned")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the city scale's users (2, 5)")
    parser.add_argument("--worker", action="store_true", help="one media worker transcodes during the load")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory (logs, locust CSV)")
    parser.add_argument(
        "--probe-requests",
        type=int,
        default=500,
        help="requests per endpoint in the CPU probe (the CPU clock ticks every 10 ms: 500 /healthz are 35 ticks)",
    )
    parser.add_argument("--probe-only", action="store_true", help="measure CPU per request, then stop (no locust)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers on a kill as on Ctrl-C
    city_users, city_rate, classes = SCENARIOS[args.scenario]
    users = args.users or round(city_users * args.scale)
    rate = args.spawn_rate or city_rate * args.scale
    database = os.environ.get("LOAD_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test_load")
    tmp = Path(tempfile.mkdtemp(prefix=f"load-{args.scenario}-"))
    procs: list[subprocess.Popen] = []
    try:
        redis, redis_url = start_redis(tmp / "redis")
        procs.append(redis)
        access, secret = "load-access-key", secrets.token_urlsafe(24)
        s3, s3_url = start_s3(tmp / "s3", access, secret)
        procs.append(s3)
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DATABASE_", "REDIS_", "S3_", "AWS_", "SMTP_", "PAGE_VERSION"))
        }
        env.update(
            SECRET_KEY=secrets.token_urlsafe(48),
            DATABASE_URL=database,
            REDIS_URL=redis_url,
            S3_ENDPOINT_URL=s3_url,
            AWS_ACCESS_KEY_ID=access,
            AWS_SECRET_ACCESS_KEY=secret,
            S3_BUCKET="load",
            PUBLIC_URL="http://127.0.0.1",
            MEDIA_FFMPEG_THREADS="1",
        )
        print(f"seeding {database} (scratch: {tmp})", flush=True)
        reset_database(database)
        flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
        published = ["--published"] if args.scenario == "results" else []  # its clips take minutes to process
        for cmd in (["db", "upgrade"], ["storage", "init"], ["demo", "seed", *published]):
            subprocess.run(flask + cmd, cwd=ROOT, env=env, check=True, capture_output=True)
        # One 60 s 1080p clip keeps the worker busy for about a minute (MEDIA_FFMPEG_THREADS=1, 2 cores): 12 outlast
        # the CPU probe, the ramp-up and the 180 s of load (3 were done before the load began).
        busy = 12 if args.worker and args.scenario != "rush" else 0
        units = max(300, round(300 * args.scale))
        judges = max(30, round(30 * args.scale))
        seeded = subprocess.run(
            [sys.executable, str(HERE / "seed.py"), "--units", str(units), "--judges", str(judges)]
            + ["--entries", "120", "--busy-clips", str(busy)],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        (tmp / "seed.json").write_text(seeded)
        seed = json.loads(seeded)
        port = free_port()
        log = open(tmp / "gunicorn.log", "wb")  # noqa: SIM115 - closed with the process
        web = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "--no-control-socket", "-w", "4", "--threads", "4"]
            + ["--timeout", "900", "-b", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        procs.append(web)
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/healthz", web, timeout=900)  # a busy machine boots 4 workers slowly
        time.sleep(2)  # every worker booted
        if args.worker:
            worker_log = open(tmp / "worker.log", "wb")  # noqa: SIM115 - closed with the process
            procs.append(
                subprocess.Popen(
                    flask + ["worker", "--queue", "clips"],
                    cwd=ROOT,
                    env=env,
                    stdout=worker_log,
                    stderr=subprocess.STDOUT,
                )
            )
            time.sleep(5)  # the worker's first sweep enqueues the seeded clips
        load = os.getloadavg()
        print(
            f"CPU per request, each endpoint alone ({args.probe_requests} requests, 4 threads; load average"
            f" {load[0]:.1f}):",
            flush=True,
        )
        cpu = measure_cpu(web.pid, base, cpu_probes(args.scenario, base, seed), args.probe_requests)
        if args.probe_only:
            load = os.getloadavg()
            print(f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} ({os.cpu_count()} CPUs)")
            return 0
        clip = make_small_clip(tmp / "clip.mp4")
        run_time = int(users / rate) + args.duration
        print(f"locust: {users} users, {rate:g}/s, {run_time} s ({args.duration} s after ramp-up)", flush=True)
        ramp = threading.Timer(users / rate, lambda: marks.append((gunicorn_cpu_ms(web.pid), time.monotonic())))
        marks: list[tuple[float, float]] = []
        ramp.start()  # the statistics restart once every user has spawned: so does the CPU count
        load_before = os.getloadavg()
        subprocess.run(
            [str(Path(sys.executable).with_name("locust")), "-f", str(HERE / "locustfile.py"), "--headless"]
            + ["-u", str(users), "-r", str(rate), "-t", f"{run_time}s", "--host", base, "--reset-stats"]
            + ["--csv", str(tmp / "locust"), "--only-summary", "--loglevel", "WARNING", *classes],
            cwd=ROOT,
            env=dict(env, LOAD_SEED=str(tmp / "seed.json"), LOAD_CLIP=str(clip)),
            check=False,  # locust exits 1 when a request failed: the table says which
        )
        if not (tmp / "locust_stats.csv").exists():
            raise RuntimeError("locust wrote no statistics: see its output above")
        ramp.cancel()
        cpu_before, wall = marks[0] if marks else (float("nan"), float("nan"))
        cpu_run, wall = gunicorn_cpu_ms(web.pid) - cpu_before, time.monotonic() - wall
        with open(tmp / "locust_stats.csv", newline="") as fh:
            rows = list(csv.DictReader(fh))
        load = os.getloadavg()
        worker_note = "one worker transcoding" if args.worker else "workers idle"
        print(
            f"\n{args.scenario}: {users} users, spawn {rate:g}/s, {args.duration} s after ramp-up, {worker_note};"
            f" gunicorn -w 4 --threads 4; PostgreSQL; load average before {load_before[0]:.1f}, after"
            f" {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} ({os.cpu_count()} CPUs)"
        )
        missed = print_table(rows, cpu)
        served = sum(int(r["Request Count"]) for r in rows if r["Name"] != "Aggregated" and "(S3)" not in r["Name"])
        if served:
            print(
                f"gunicorn workers: {cpu_run / 1000:.1f} CPU-s over {wall:.0f} s ({cpu_run / wall / 10:.0f} % of one"
                f" core) for {served} requests: {cpu_run / served:.1f} ms/request"
            )
        print("goals: " + ("all met" if not missed else "MISSED: " + "; ".join(missed)))
        return 1 if missed else 0
    finally:
        stop_processes(procs, timeout=10, again_after=2)
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
