"""Benchmark resumable uploads over loopback, side by side in one run.

Usage:  .venv/bin/python bench/upload.py [--size-mib 1024] [--runs 3] [--threads 4] [--concurrent 8]

Starts its own `rclone serve s3` and Redis on free ports, a SQLite database, and two gunicorn portals as deployed
(2 workers × 4 threads), one per UPLOAD_MODE. A 1 GiB file of random bytes is then uploaded
  1. with a plain boto3 multipart upload (upload_file, the same part size and concurrency) — the baseline;
  2. through the portal's protocol in `direct` mode (parts PUT to presigned S3 URLs);
  3. through the portal's protocol in `proxy` mode (parts streamed through the web workers),
by a Python client with several threads, as the browser does (sign a part, PUT it, next part; then complete).
Runs alternate and the median of each is reported. During a proxy upload, and then during 8 concurrent proxy uploads,
the resident memory (VmRSS in /proc) of every gunicorn worker is sampled every 20 ms; growth is peak minus the
worker's RSS after a warm-up upload. Targets: direct ≥ 0.90× and proxy ≥ 0.70× the baseline's throughput; proxy
worker growth ≤ 64 MiB for one upload and at most 8× that for 8 concurrent ones. Exit status 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import http.client
import http.cookiejar
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.portal_env import scratch, start_portal_services  # noqa: E402
from bench.procstat import stat_of  # noqa: E402
from devtools.run import gunicorn_command  # noqa: E402
from devtools.services import free_port, wait_http  # noqa: E402

MIB = 1024 * 1024
PASSWORD = "bench-pass-2026"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


# --- the portal protocol, as a browser speaks it -----------------------------------------------------------------


class Session:
    """A logged-in unit member: the session cookie and the CSRF token."""

    def __init__(self, base: str, email: str) -> None:
        self.base = base
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        token = CSRF_RE.search(opener.open(base + "/login").read().decode()).group(1)
        opener.open(
            base + "/login",
            urllib.parse.urlencode({"email": email, "password": PASSWORD, "csrf_token": token}).encode(),
        )
        self.csrf = CSRF_RE.search(opener.open(base + "/").read().decode()).group(1)
        self.cookie = "; ".join(f"{c.name}={c.value}" for c in jar)


class Connections:
    """One keep-alive HTTP connection per host for the calling thread."""

    def __init__(self) -> None:
        self.local = threading.local()

    def request(self, url: str, method: str, body=None, headers=None) -> tuple[int, dict, bytes]:
        parts = urllib.parse.urlsplit(url)
        pool = self.local.__dict__.setdefault("pool", {})
        for attempt in (1, 2):
            conn = pool.get(parts.netloc)
            if conn is None:
                conn = pool[parts.netloc] = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)
            try:
                conn.request(
                    method, parts.path + (f"?{parts.query}" if parts.query else ""), body=body, headers=headers or {}
                )
                resp = conn.getresponse()
                data = resp.read()
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    pool.pop(parts.netloc, None)
                return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
            except (http.client.HTTPException, ConnectionError):
                conn.close()
                pool.pop(parts.netloc, None)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def portal_upload(session: Session, conns: Connections, entry_id: int, path: Path, threads: int) -> float:
    """Upload a file through the protocol with `threads` parallel parts; return the wall time in seconds."""
    size = path.stat().st_size
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": session.csrf,
        "Cookie": session.cookie,
    }

    def call(method: str, url: str, body: dict | None) -> dict:
        status, _h, data = conns.request(
            session.base + url, method, json.dumps(body).encode() if body else None, headers
        )
        if status >= 300:
            raise RuntimeError(f"{method} {url}: {status} {data[:300]!r}")
        return json.loads(data)

    started = time.perf_counter()
    doc = call("POST", f"/uploads/entries/{entry_id}", {"filename": path.name, "size": size, "type": "video/mp4"})
    numbers = list(range(doc["partCount"], 0, -1))
    lock = threading.Lock()
    errors: list[BaseException] = []
    fd = os.open(path, os.O_RDONLY)

    def worker() -> None:
        try:
            while True:
                with lock:
                    if not numbers or errors:
                        return
                    number = numbers.pop()
                grant = call("POST", f"{doc['urls']['sign']}{number}", {"uploadId": doc["uploadId"]})
                data = os.pread(fd, grant["size"], (number - 1) * doc["partSize"])
                url = urllib.parse.urljoin(session.base, grant["url"])
                status, got, body = conns.request(url, "PUT", data, {"Content-Length": str(len(data))})
                if status != 200 or "etag" not in got:
                    raise RuntimeError(f"part {number}: {status} {body[:300]!r}")
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            errors.append(exc)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    os.close(fd)
    if errors:
        raise errors[0]
    done = call("POST", doc["urls"]["complete"], {"uploadId": doc["uploadId"]})
    elapsed = time.perf_counter() - started
    assert done["completed"], done
    return elapsed


def boto3_upload(storage, path: Path, key: str, part: int, threads: int) -> float:
    """The baseline: boto3's own multipart upload of the same file to the same store."""
    from boto3.s3.transfer import TransferConfig

    started = time.perf_counter()
    storage.client.upload_file(
        str(path),
        storage.bucket,
        key,
        Config=TransferConfig(
            multipart_threshold=part, multipart_chunksize=part, max_concurrency=threads, use_threads=True
        ),
    )
    return time.perf_counter() - started


# --- memory of the web workers ------------------------------------------------------------------------------------


def worker_pids(master: int) -> list[int]:
    """The gunicorn workers: the master's children."""
    out = []
    for entry in Path("/proc").glob("[0-9]*"):
        stat = stat_of(entry.name)
        if stat is not None and int(stat[1][1]) == master:
            out.append(int(entry.name))
    return sorted(out)


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


@contextmanager
def rss_peaks(pids: list[int], every: float = 0.02):
    """Yield a dict that ends up holding each pid's peak RSS while the block ran."""
    peaks = {pid: rss(pid) for pid in pids}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            for pid in pids:
                peaks[pid] = max(peaks[pid], rss(pid))
            stop.wait(every)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peaks
    finally:
        stop.set()
        thread.join()


# --- the environment ------------------------------------------------------------------------------------------------


def seed(entries: int) -> tuple[str, list[int]]:
    """A unit member and `entries` draft entries of an open contest, through the service layer."""
    from app import create_app, db
    from app.models import Entry, EntryStatus, Role
    from app.services import accounts, contests

    app = create_app()
    with app.app_context():
        unit = accounts.create_unit(db.session, code="BENCH", name="Đơn vị đo hiệu năng")
        user = accounts.create_user(
            db.session, email="bench@example.vn", name="Bench", password=PASSWORD, role=Role.UNIT, unit=unit
        )
        contest = contests.create_contest(db.session, slug="bench-uploads", title="Bench")
        ids = []
        for i in range(entries):
            entry = Entry(contest_id=contest.id, unit_id=unit.id, title=f"Bench {i}", status=EntryStatus.DRAFT)
            db.session.add(entry)
            db.session.flush()
            ids.append(entry.id)
        db.session.commit()
        return user.email, ids


def make_file(path: Path, size: int) -> None:
    with open(path, "wb") as fh:
        left = size
        while left:
            n = min(left, 16 * MIB)
            fh.write(os.urandom(n))
            left -= n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4, help="parallel parts per upload (Uppy: limit)")
    parser.add_argument("--concurrent", type=int, default=8)
    parser.add_argument("--part-mib", type=int, default=None, help="default: the portal's UPLOAD_PART_BYTES")
    parser.add_argument(
        "--dir",
        default="/dev/shm" if Path("/dev/shm").is_dir() else None,
        help="where the store keeps its files and the test file lives (default: /dev/shm, so that "
        "the figures measure the upload paths rather than the disk)",
    )
    args = parser.parse_args()

    with scratch("bench-upload-", args.dir) as (tmp, procs, logs):
        sizes = {"MAX_UPLOAD_BYTES": str(max(args.size_mib * MIB, 2 * 1024 * MIB))}
        if args.part_mib:
            sizes["UPLOAD_PART_BYTES"] = str(args.part_mib * MIB)
        start_portal_services(tmp, procs, allow_origin="*", **sizes)
        from app.storage import Storage
        from config import Config

        config = Config()
        storage = Storage.from_config(config.as_dict())
        storage.ensure_bucket()
        email, entries = seed(1 + args.concurrent)
        part = config.UPLOAD_PART_BYTES

        portals = {}
        for mode in ("direct", "proxy"):
            port = free_port()
            log = open(tmp / f"gunicorn-{mode}.log", "wb")  # noqa: SIM115 - closed after the portal stops
            logs.append(log)
            proc = subprocess.Popen(
                gunicorn_command(f"127.0.0.1:{port}"),  # two portals at once, as `make run` serves one
                cwd=ROOT,
                env={**os.environ, "UPLOAD_MODE": mode},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            procs.append(proc)
            portals[mode] = (f"http://127.0.0.1:{port}", proc)
        for base, proc in portals.values():
            wait_http(base + "/healthz", proc, timeout=90)

        big = tmp / "clip-1gib.mp4"
        print(f"writing a {args.size_mib} MiB file of random bytes…", flush=True)
        make_file(big, args.size_mib * MIB)
        small = tmp / "warm-up.mp4"
        make_file(small, 3 * part)
        sessions = {mode: Session(base, email) for mode, (base, _proc) in portals.items()}
        conns = Connections()
        for mode in portals:  # warm-up: imports, boto3 clients, connection pools in both workers
            for _ in range(3):
                portal_upload(sessions[mode], conns, entries[0], small, args.threads)

        timings: dict[str, list[float]] = {"boto3": [], "direct": [], "proxy": []}
        proxy_growth: list[int] = []
        proxy_pids = worker_pids(portals["proxy"][1].pid)

        def settle() -> None:
            """Remove what the last upload stored and flush the disk, so no run pays for another's write-back."""
            for key in storage.keys("originals/") + storage.keys("bench/"):
                storage.delete(key)
            os.sync()
            time.sleep(1)

        order = ["boto3", "direct", "proxy"]
        for run in range(args.runs):
            for path in order[run % 3 :] + order[: run % 3]:  # rotate the order between runs
                settle()
                if path == "boto3":
                    timings[path].append(boto3_upload(storage, big, "bench/baseline.bin", part, args.threads))
                elif path == "direct":
                    timings[path].append(portal_upload(sessions[path], conns, entries[0], big, args.threads))
                else:
                    before = {pid: rss(pid) for pid in proxy_pids}
                    with rss_peaks(proxy_pids) as peaks:
                        timings[path].append(portal_upload(sessions[path], conns, entries[0], big, args.threads))
                    proxy_growth.append(max(peaks[pid] - before[pid] for pid in proxy_pids))
            print(
                f"run {run + 1}: " + ", ".join(f"{k} {args.size_mib / v[-1]:.0f} MiB/s" for k, v in timings.items()),
                flush=True,
            )
        settle()

        # 8 uploads at once through the proxy, each with its own threads, like 8 browsers. They log in first: a login
        # checks a scrypt password hash, which takes 128 MiB for a moment, and that is not what is measured here.
        browsers = [Session(portals["proxy"][0], email) for _ in range(args.concurrent)]
        before = {pid: rss(pid) for pid in proxy_pids}
        results: list[float] = []
        started = time.perf_counter()
        with rss_peaks(proxy_pids) as peaks:
            uploads = [
                threading.Thread(
                    target=lambda e=e, b=b: results.append(portal_upload(b, Connections(), e, big, args.threads))
                )
                for e, b in zip(entries[1 : 1 + args.concurrent], browsers, strict=False)
            ]
            for t in uploads:
                t.start()
            for t in uploads:
                t.join()
        wall = time.perf_counter() - started
        growth8 = max(peaks[pid] - before[pid] for pid in proxy_pids)
        if len(results) != args.concurrent:
            raise RuntimeError("a concurrent upload failed; see the gunicorn log in " + str(tmp))

        med = {k: statistics.median(v) for k, v in timings.items()}
        rate = {k: args.size_mib / v for k, v in med.items()}
        ratio = {k: rate[k] / rate["boto3"] for k in rate}
        growth1 = max(proxy_growth)
        checks = [
            ratio["direct"] >= 0.90,
            ratio["proxy"] >= 0.70,
            growth1 <= 64 * MIB,
            growth8 <= args.concurrent * max(growth1, 1 * MIB),
        ]
        print()
        print(
            f"{args.size_mib} MiB file over loopback, {part // MIB} MiB parts, {args.threads} parallel parts, "
            f"median of {args.runs} runs (rclone serve s3, gunicorn 2 workers × 4 threads, {os.cpu_count()} CPUs)"
        )
        print(f"{'path':<36}{'MiB/s':>8}{'× boto3':>10}  target")
        print(f"{'boto3 multipart upload (baseline)':<36}{rate['boto3']:>8.0f}{1.0:>10.2f}")
        print(
            f"{'portal direct (presigned S3 URLs)':<36}{rate['direct']:>8.0f}{ratio['direct']:>10.2f}  ≥ 0.90"
            f"  {'ok' if checks[0] else 'MISSED'}"
        )
        print(
            f"{'portal proxy (streamed via portal)':<36}{rate['proxy']:>8.0f}{ratio['proxy']:>10.2f}  ≥ 0.70"
            f"  {'ok' if checks[1] else 'MISSED'}"
        )
        print()
        print("proxy mode, gunicorn worker RSS growth over the warmed-up RSS (largest of the 2 workers)")
        print(
            f"  1 upload of {args.size_mib} MiB:{growth1 / MIB:>10.1f} MiB   (≤ 64 MiB: "
            f"{'ok' if checks[2] else 'MISSED'}; per run: "
            f"{', '.join(f'{g / MIB:.1f}' for g in proxy_growth)})"
        )
        print(
            f"  {args.concurrent} concurrent uploads:{growth8 / MIB:>9.1f} MiB   (≤ {args.concurrent}× one upload: "
            f"{'ok' if checks[3] else 'MISSED'}; {args.concurrent * args.size_mib / wall:.0f} MiB/s aggregate)"
        )
        print(f"  worker RSS now: {', '.join(f'{rss(p) / MIB:.0f} MiB' for p in proxy_pids)}")

        return 0 if all(checks) else 1


if __name__ == "__main__":
    sys.exit(main())
