"""Benchmark media delivery: N concurrent viewers of one large rendition, in each MEDIA_DELIVERY mode.

Usage:  .venv/bin/python bench/media_delivery.py [--viewers 20] [--size-mib 100] [--runs 1]

Starts its own `rclone serve s3` and Redis on free ports (data in /dev/shm), a SQLite database, three gunicorn portals
as deployed (2 workers × 4 threads), one per MEDIA_DELIVERY, and Debian's nginx in front of the `accel` one (the
configuration of docs/deploy.md). A rendition of random bytes is stored, and `--viewers` threads fetch it whole at
once, as logged-in organisers:
  - `direct`: a presigned GET straight from the store (the baseline: the store's own throughput);
  - `stream`: through the portal's Python; `redirect`: a 302, then the store; `accel`: nginx after X-Accel-Redirect.
For each: aggregate throughput (bytes / wall time of the slowest viewer), and the CPU seconds (user + system, from
/proc) that the web processes (gunicorn master and workers) and nginx spent, per GB delivered. Every body is checked
for its length and its SHA-256. Goals (issue 16): redirect and accel ≥ 0.9× direct throughput, at ≤ 0.1× the web CPU of
stream. The machine is shared: compare the ratios, and run `uptime` beside it. Exit status 1 if a goal is missed.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.portal_env import scratch, start_portal_services  # noqa: E402
from bench.procstat import cpu_seconds, tree  # noqa: E402
from devtools.services import start_nginx, start_web  # noqa: E402
from tests.portal_client import PortalClient  # noqa: E402

MIB = 1024 * 1024
GB = 1e9
PASSWORD = "bench-pass-2026-media"


def fetch(url: str, headers: dict, follow: bool) -> tuple[int, str]:
    """GET url to the end (following one redirect when follow); returns (bytes, sha256)."""
    for _ in range(2):
        parts = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
        conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers)
        resp = conn.getresponse()
        if resp.status in (301, 302) and follow:
            url, headers = resp.getheader("Location"), {}
            resp.read()
            conn.close()
            continue
        if resp.status != 200:
            raise RuntimeError(f"GET {url}: {resp.status} {resp.read(300)!r}")
        digest, size = hashlib.sha256(), 0
        while block := resp.read(1 * MIB):
            digest.update(block)
            size += len(block)
        conn.close()
        return size, digest.hexdigest()
    raise RuntimeError("redirected twice")


def viewers(n: int, url: str, headers: dict, follow: bool, expected: tuple[int, str]) -> float:
    """n concurrent full GETs; returns the wall time until the last one finished. Every body is checked."""
    errors: list[BaseException] = []
    start = threading.Barrier(n + 1)

    def view() -> None:
        try:
            start.wait()
            got = fetch(url, headers, follow)
            if got != expected:
                raise RuntimeError(f"wrong body: {got[0]} bytes, sha256 {got[1][:12]}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=view) for _ in range(n)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - began


def warm_up(url: str, cookie: str) -> None:
    """One small request (the first byte; a redirect is not followed)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
    conn.request("GET", parts.path, headers={"Cookie": cookie, "Range": "bytes=0-0"})
    resp = conn.getresponse()
    resp.read()
    conn.close()
    if resp.status not in (206, 302):
        raise RuntimeError(f"warm-up {url}: {resp.status}")


def seed(storage, size: int, tmp: Path) -> tuple[int, str, str, tuple[int, str]]:
    """An organiser and a ready clip whose 720p rendition is `size` random bytes; (clip id, email, key, expected)."""
    from app import create_app, db
    from app.models import Clip, ClipStatus, Entry, EntryStatus, Role
    from app.services import accounts, contests
    from app.storage import derived_key

    path = tmp / "rendition.mp4"
    digest = hashlib.sha256()
    with open(path, "wb") as fh:
        for _ in range(size // MIB):
            block = os.urandom(MIB)
            digest.update(block)
            fh.write(block)
    app = create_app()
    with app.app_context():
        unit = accounts.create_unit(db.session, code="BENCH", name="Đơn vị đo hiệu năng")
        user = accounts.create_user(db.session, email="o@bench.vn", name="O", password=PASSWORD, role=Role.ORGANISER)
        contest = contests.create_contest(db.session, slug="bench-media", title="Bench")
        entry = Entry(contest_id=contest.id, unit_id=unit.id, title="Bench", status=EntryStatus.SUBMITTED)
        db.session.add(entry)
        db.session.flush()
        clip = Clip(
            entry_id=entry.id, original_key="originals/bench.mp4", filename="bench.mp4", status=ClipStatus.READY
        )
        db.session.add(clip)
        db.session.flush()
        key = derived_key(clip.id, "720p.mp4")
        with open(path, "rb") as fh:
            storage.put_stream(key, fh, content_type="video/mp4")
        clip.renditions = [{"name": "720p", "key": key, "width": 1280, "height": 720}]
        entry.clip_id = clip.id
        db.session.commit()
        path.unlink()
        return clip.id, user.email, key, (size, digest.hexdigest())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=int, default=20)
    parser.add_argument("--size-mib", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3, help="rounds over every mode; each figure is the median")
    args = parser.parse_args()

    scratch_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None
    with scratch("bench-media-", scratch_dir) as (tmp, procs, logs):
        env = start_portal_services(tmp, procs, RATELIMIT_ENABLED="0")
        from app.storage import Storage
        from config import Config

        storage = Storage.from_config(Config().as_dict())
        storage.ensure_bucket()
        clip_id, email, key, expected = seed(storage, args.size_mib * MIB, tmp)

        portals: dict[str, tuple[str, subprocess.Popen]] = {}
        for mode in ("stream", "redirect", "accel"):
            log = open(tmp / f"gunicorn-{mode}.log", "wb")  # noqa: SIM115 - closed at the end
            logs.append(log)
            extra = {"MEDIA_DELIVERY": mode, "PROXY_HOPS": "1" if mode == "accel" else "0"}
            web, base = start_web({**os.environ, **extra}, log, cwd=ROOT)
            procs.append(web)
            portals[mode] = (base, web)
        nginx, nginx_base = start_nginx(
            tmp / "nginx", portals=[portals["accel"][0].removeprefix("http://")], store_url=env["S3_ENDPOINT_URL"]
        )
        procs.append(nginx)
        entry_points = {"stream": portals["stream"][0], "redirect": portals["redirect"][0], "accel": nginx_base}
        cookies = {}
        for mode, base in entry_points.items():
            client = PortalClient(base)
            client.login(email, PASSWORD)
            cookies[mode] = "; ".join(f"{c.name}={c.value}" for c in client.jar)
        path = f"/media/clips/{clip_id}/play.mp4"
        for mode, base in entry_points.items():  # warm-up: imports, boto3 clients and pools in every worker thread
            warm = [threading.Thread(target=warm_up, args=(base + path, cookies[mode])) for _ in range(16)]
            for t in warm:
                t.start()
            for t in warm:
                t.join()

        runs: dict[str, list[dict]] = {}
        for _ in range(args.runs):
            for mode in ("direct", "stream", "redirect", "accel"):
                if mode == "direct":
                    url = storage.presign_get(key, expires_in=3600, content_type="video/mp4", disposition="inline")
                    headers, watched = {}, []
                else:
                    url, headers = entry_points[mode] + path, {"Cookie": cookies[mode]}
                    watched = tree(portals[mode][1].pid)
                nginx_pids = tree(nginx.pid)
                web_before = cpu_seconds(watched, waited_children=True)
                nginx_before = cpu_seconds(nginx_pids, waited_children=True)
                wall = viewers(args.viewers, url, headers, mode == "redirect", expected)
                gbytes = args.viewers * expected[0] / GB
                row = {
                    "wall_s": wall,
                    "mb_s": args.viewers * expected[0] / MIB / wall,
                    "web_cpu_s_per_gb": (cpu_seconds(watched, waited_children=True) - web_before) / gbytes,
                    "nginx_cpu_s_per_gb": (cpu_seconds(nginx_pids, waited_children=True) - nginx_before) / gbytes,
                }
                runs.setdefault(mode, []).append(row)
                print(
                    f"  {mode:8} {row['wall_s']:7.1f} s  {row['mb_s']:8.1f} MiB/s  web {row['web_cpu_s_per_gb']:.3f}"
                    f" CPU s/GB  nginx {row['nginx_cpu_s_per_gb']:.3f} CPU s/GB",
                    flush=True,
                )
        results = {mode: {k: statistics.median(r[k] for r in rows) for k in rows[0]} for mode, rows in runs.items()}

        load = Path("/proc/loadavg").read_text().split()[:3]
        print(f"\n{args.viewers} viewers × {args.size_mib} MiB, median of {args.runs}; load average {' '.join(load)}")
        print("| mode | wall | throughput | × direct | web CPU s/GB | × stream | nginx CPU s/GB |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        ok = True
        for mode, row in results.items():
            vs_direct = row["mb_s"] / results["direct"]["mb_s"]
            stream_cpu = results["stream"]["web_cpu_s_per_gb"]
            vs_stream = row["web_cpu_s_per_gb"] / stream_cpu if stream_cpu else float("nan")
            goal = ""
            if mode in ("redirect", "accel"):
                met = vs_direct >= 0.9 and vs_stream <= 0.1
                ok &= met
                goal = " PASS" if met else " FAIL"
            print(
                f"| {mode}{goal} | {row['wall_s']:.1f} s | {row['mb_s']:.0f} MiB/s | {vs_direct:.2f} | "
                f"{row['web_cpu_s_per_gb']:.3f} | {vs_stream:.3f} | {row['nginx_cpu_s_per_gb']:.3f} |"
            )
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
