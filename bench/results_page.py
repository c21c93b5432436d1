"""Organiser results board: server time cold (the first view after a sheet changes) and warm, and whether its numbers
are those of the CLI's ranking. Targets: cold ≤ 1 s, warm ≤ 150 ms.

Usage: .venv/bin/python bench/results_page.py [--scale city|national|both] [--database-url URL] [--runs 30]
  [--cold-runs 5] [--profile]
City: 300 entries × 10 judges, 100 units (12,000 scores); national: 20,000 × 5, 5,000 units (400,000 scores);
`both` (the default) runs city then national, each in a fresh process. --entries/--judges/--units set a scale by hand.
Uses a fresh SQLite database in a temp dir, or --database-url (or DATABASE_URL) postgresql://… whose public schema is
dropped and recreated; and a private redis-server (the board's cache). No S3 is needed. Times are wall-clock and
process CPU of the request (the in-process test client: server time, no network); the CPU figure is the one to
compare on a loaded machine. The sheets are seeded as saved over the last three days in the order of their ids (their
updated_at), as in a real round; a cold view follows one sheet's change; the full-read line drops the cached sheet
columns first.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCALES = {"city": (300, 10, 100), "national": (20000, 5, 5000)}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=[*SCALES, "both"], default="both")
    for flag in ("--entries", "--judges", "--units"):
        parser.add_argument(flag, type=int, help="overrides the scale's value")
    parser.add_argument("--runs", type=int, default=30, help="warm views")
    parser.add_argument("--cold-runs", type=int, default=5, help="views each after a sheet changed")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), help="default: SQLite in a temp dir")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one cold and one warm request")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    if args.scale == "both" and args.entries is None:
        status = 0
        for scale in SCALES:
            argv = [a for a in sys.argv[1:] if not a.startswith("--scale")]
            status |= subprocess.run([sys.executable, __file__, *argv, f"--scale={scale}"], check=False).returncode
        return status
    entries, judges, units = SCALES["city" if args.scale == "both" else args.scale]
    args.entries, args.judges, args.units = args.entries or entries, args.judges or judges, args.units or units
    return measure(args)


def measure(args: argparse.Namespace) -> int:
    tmp = tempfile.mkdtemp(prefix="bench-results-")
    url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
    if url.startswith("postgresql"):
        from sqlalchemy import text

        from app.db import make_engine

        with make_engine(url).begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, check=True)

    from sqlalchemy import insert, update
    from werkzeug.security import generate_password_hash

    from app import create_app, db
    from app import models as m

    # In-process client: login throttling off; a one-off key for this run. Redis only caches the board.
    from devtools.services import start_redis, stop_processes

    redis_proc, redis_url = start_redis(Path(tmp) / "redis")
    app = create_app(
        {
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "SECRET_KEY": secrets.token_urlsafe(48),
            "REDIS_URL": redis_url,
        }
    )
    rng = random.Random(1)
    seed_start = time.perf_counter()
    with app.app_context():
        s = db.session
        pw = generate_password_hash("bench-pass-1")
        units = [m.Unit(code=f"U{i:04d}", name=f"Đơn vị {i}") for i in range(args.units)]
        s.add_all(units)
        contest = m.Contest(slug="bench", title="Bench")
        s.add_all([contest, m.User(email="org@bench.vn", name="Org", password_hash=pw, role=m.Role.ORGANISER)])
        s.flush()
        judges = [
            m.User(email=f"j{i}@bench.vn", name=f"Judge {i}", password_hash=pw, role=m.Role.JUDGE)
            for i in range(args.judges)
        ]
        s.add_all(judges)
        rnd = m.Round(contest_id=contest.id, name="Sơ khảo", status=m.RoundStatus.OPEN, tie_breaks=["median"])
        rnd.criteria = [
            m.Criterion(name=f"C{i}", max_points=top, weight=1, step=0.5, position=i)
            for i, top in enumerate((40, 30, 20, 10))
        ]
        s.add(rnd)
        s.flush()
        s.add_all(m.PanelMember(round_id=rnd.id, judge_id=j.id) for j in judges)
        s.flush()
        # Bulk rows (executemany): building 500,000 ORM objects would take longer than everything measured here.
        entry_rows, sheet_rows, score_rows = [], [], []
        sheet_id = 0
        seeded_at = m.utcnow()
        step = (timedelta(days=3) - timedelta(minutes=10)) / (args.entries * args.judges)
        for i in range(args.entries):
            entry_id = i + 1
            entry_rows.append(
                {
                    "id": entry_id,
                    "contest_id": contest.id,
                    "unit_id": units[i % len(units)].id,
                    "title": f"Tác phẩm {i} về cải cách hành chính",
                    "status": m.EntryStatus.SUBMITTED,
                }
            )
            quality = rng.random()
            for judge in judges:
                sheet_id += 1
                sheet_rows.append(
                    {
                        "id": sheet_id,
                        "round_id": rnd.id,
                        "entry_id": entry_id,
                        "judge_id": judge.id,
                        "status": m.SheetStatus.SUBMITTED,
                        "criterion_comments": {},
                        # saved over the round's last three days in the order they were created, as judges do
                        "updated_at": seeded_at - timedelta(days=3) + sheet_id * step,
                    }
                )
                for c in rnd.criteria:
                    noisy = c.max_points * (quality + rng.gauss(0, 0.15))
                    points = round(min(c.max_points, max(0, noisy)) * 2) / 2
                    score_rows.append({"sheet_id": sheet_id, "criterion_id": c.id, "points": points})
        # Every entry has a ready clip, as in a real round (the panel's progress counts only those).
        clip_rows = [
            {"id": e["id"], "entry_id": e["id"], "original_key": f"o/{e['id']}", "filename": "a.mp4", "status": "ready"}
            for e in entry_rows
        ]
        for model, rows in (
            (m.Entry, entry_rows),
            (m.Clip, clip_rows),
            (m.ScoreSheet, sheet_rows),
            (m.Score, score_rows),
        ):
            for i in range(0, len(rows), 20000):
                s.execute(insert(model), rows[i : i + 20000])
        s.execute(update(m.Entry).values(clip_id=m.Entry.id))
        s.commit()
        if url.startswith("postgresql"):  # the state autovacuum reaches soon after a bulk load
            with db.engine().connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
        round_id = rnd.id
    print(f"seeded in {time.perf_counter() - seed_start:.1f} s", flush=True)

    import gc

    gc.collect()
    gc.freeze()  # as wsgi.py does in every gunicorn worker
    client = app.test_client()
    client.post("/login", data={"email": "org@bench.vn", "password": "bench-pass-1"})
    url = f"/org/rounds/{round_id}/results"  # from here on, the page's URL

    def timed_get(path: str) -> tuple[float, float]:
        """Wall-clock and process CPU milliseconds of one view."""
        start, cpu = time.perf_counter(), time.process_time()
        resp = client.get(path)
        elapsed, cpu = (time.perf_counter() - start) * 1000, (time.process_time() - cpu) * 1000
        assert resp.status_code == 200 and b"Kendall" in resp.data, resp.status_code
        return elapsed, cpu

    def touch_a_sheet(n: int) -> None:
        """What a judge updating a submitted sheet does to the board's inputs (its updated_at moves)."""
        with app.app_context():
            sheet = db.session.get(m.ScoreSheet, 1 + n % (args.entries * args.judges))
            sheet.updated_at = m.utcnow()
            db.session.commit()

    timed_get(url)  # imports, template compilation
    if args.profile:
        import cProfile
        import pstats

        for what in ("cold", "warm"):
            if what == "cold":
                touch_a_sheet(99)
            profile = cProfile.Profile()
            profile.runcall(timed_get, url)
            print(f"--- {what}")
            pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
    cold, warm, compare_cold, compare_warm = [], [], [], []
    for i in range(args.cold_runs):
        touch_a_sheet(i)
        cold.append(timed_get(url))
    for i in range(args.runs):
        warm.append(timed_get(url if i % 2 else f"{url}?page=2"))
    touch_a_sheet(args.cold_runs)
    timed_get(url)
    compare_cold.append(timed_get(f"{url}?compare=1"))  # the other methods, first asked after a change
    compare_warm += [timed_get(f"{url}?compare=1&page={2 + i % 3}") for i in range(5)]
    search = [timed_get(f"{url}?q={q}") for q in ("123", "%C4%90%C6%A1n+v%E1%BB%8B+7", "%23500")]
    # The worst cold view: the cached sheet columns gone too (expired, a changed rubric, or a failed check), so
    # every score is read again.
    full_read = []
    with app.app_context():
        from app.connections import cache_redis

        for i in range(min(3, args.cold_runs)):
            cache_redis().delete(*cache_redis().keys(f"board:{round_id}:sheets:*"))
            touch_a_sheet(args.cold_runs + 1 + i)
            full_read.append(timed_get(url))
    with app.app_context():
        from app.connections import cache_redis
        from app.services import board
        from app.services.results import ranking

        rnd = db.session.get(m.Round, round_id)
        numbers = board.cached_numbers(db.session, rnd, cache_redis(), ttl=60)
        compared = board.cached_comparison(board.RoundSheets(db.session, rnd, cache_redis(), ttl=60), numbers)
        same = True
        for method in (rnd.aggregation, *compared.meta["methods"]):  # what `flask results show --method` prints
            fresh = [(r.entry.id, r.rank, r.score) for r in ranking(db.session, rnd, method=method)]
            key = ("rank", "score") if method == rnd.aggregation else (f"rank_{method}", f"score_{method}")
            columns = numbers.columns if method == rnd.aggregation else compared.columns
            ours = zip(numbers.columns["entries"].tolist(), *(columns[k].tolist() for k in key), strict=True)
            same &= sorted(fresh) == sorted(ours)
    stop_processes([redis_proc], timeout=5)
    scores = args.entries * args.judges * 4

    def line(label: str, runs: list[tuple[float, float]]) -> str:
        wall, cpu = [w for w, _ in runs], [c for _, c in runs]
        p90 = sorted(wall)[max(0, int(len(wall) * 0.9) - 1)]
        return (
            f"  {label}: runs={len(runs)} median {statistics.median(wall):.0f} ms (p90 {p90:.0f}, max {max(wall):.0f}),"
            f" CPU median {statistics.median(cpu):.0f} ms"
        )

    print(f"results board, {args.entries} entries × {args.judges} judges × 4 criteria ({scores} scores), {url_kind()}")
    print(f"  load average {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")
    print(line("cold (a sheet changed)", cold))
    print(line("warm (pages 1 and 2)", warm))
    print(line("cold, sheet columns not cached (every score read)", full_read))
    print(line("compare methods, first view after a change", compare_cold))
    print(line("compare methods, warm", compare_warm))
    print(f"  searches (rank, unit, #id): {', '.join(f'{w:.0f} ms' for w, _ in search)}")
    print(f"  numbers identical to the CLI's ranking by every method (results show): {same}")
    ok = same and statistics.median(w for w, _ in cold) <= 1000 and statistics.median(w for w, _ in warm) <= 150
    print(f"  targets cold ≤ 1 s, warm ≤ 150 ms (wall): {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


def url_kind() -> str:
    return os.environ["DATABASE_URL"].split(":")[0]


if __name__ == "__main__":
    sys.exit(main())
