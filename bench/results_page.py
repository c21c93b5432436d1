"""Organiser results board: server time cold (the first view after a sheet changes) and warm, and whether its numbers
are those of the CLI's ranking. Targets: cold ≤ 1 s, warm ≤ 150 ms.

Usage: .venv/bin/python bench/results_page.py [--entries 300] [--judges 10] [--runs 30] [--cold-runs 5] [--units 100]
City scale is the default; national scale: --entries 20000 --judges 5 --units 5000 (400,000 scores).
Uses a fresh SQLite database in a temp dir (DATABASE_URL=postgresql://… to measure on PostgreSQL instead: the
database's tables are dropped and recreated) and a private redis-server (the board's cache). No S3 is needed.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=300)
    parser.add_argument("--judges", type=int, default=10)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one cold and one warm request")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-results-")
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
    if url.startswith("postgresql"):
        from sqlalchemy import text

        from app.db import make_engine

        with make_engine(url).begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, check=True)

    from sqlalchemy import insert
    from werkzeug.security import generate_password_hash

    from app import create_app, db
    from app.models import (
        Contest,
        Criterion,
        Entry,
        EntryStatus,
        PanelMember,
        Role,
        Round,
        RoundStatus,
        Score,
        ScoreSheet,
        SheetStatus,
        Unit,
        User,
        utcnow,
    )

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
        units = [Unit(code=f"U{i:04d}", name=f"Đơn vị {i}") for i in range(args.units)]
        s.add_all(units)
        contest = Contest(slug="bench", title="Bench")
        s.add_all([contest, User(email="org@bench.vn", name="Org", password_hash=pw, role=Role.ORGANISER)])
        s.flush()
        judges = [
            User(email=f"j{i}@bench.vn", name=f"Judge {i}", password_hash=pw, role=Role.JUDGE)
            for i in range(args.judges)
        ]
        s.add_all(judges)
        rnd = Round(contest_id=contest.id, name="Sơ khảo", status=RoundStatus.OPEN, tie_breaks=["median"])
        rnd.criteria = [
            Criterion(name=f"C{i}", max_points=m, weight=1, step=0.5, position=i)
            for i, m in enumerate((40, 30, 20, 10))
        ]
        s.add(rnd)
        s.flush()
        s.add_all(PanelMember(round_id=rnd.id, judge_id=j.id) for j in judges)
        s.flush()
        # Bulk rows (executemany): building 500,000 ORM objects would take longer than everything measured here.
        entry_rows, sheet_rows, score_rows = [], [], []
        sheet_id = 0
        for i in range(args.entries):
            entry_id = i + 1
            entry_rows.append(
                {
                    "id": entry_id,
                    "contest_id": contest.id,
                    "unit_id": units[i % len(units)].id,
                    "title": f"Tác phẩm {i} về cải cách hành chính",
                    "status": EntryStatus.SUBMITTED,
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
                        "status": SheetStatus.SUBMITTED,
                        "criterion_comments": {},
                    }
                )
                for c in rnd.criteria:
                    noisy = c.max_points * (quality + rng.gauss(0, 0.15))
                    points = round(min(c.max_points, max(0, noisy)) * 2) / 2
                    score_rows.append({"sheet_id": sheet_id, "criterion_id": c.id, "points": points})
        for model, rows in ((Entry, entry_rows), (ScoreSheet, sheet_rows), (Score, score_rows)):
            for i in range(0, len(rows), 20000):
                s.execute(insert(model), rows[i : i + 20000])
        s.commit()
        round_id = rnd.id
    print(f"seeded in {time.perf_counter() - seed_start:.1f} s", flush=True)

    import gc

    gc.collect()
    gc.freeze()  # as wsgi.py does in every gunicorn worker
    client = app.test_client()
    client.post("/login", data={"email": "org@bench.vn", "password": "bench-pass-1"})
    url = f"/org/rounds/{round_id}/results"

    def timed_get(path: str) -> float:
        start = time.perf_counter()
        resp = client.get(path)
        elapsed = (time.perf_counter() - start) * 1000
        assert resp.status_code == 200 and b"Kendall" in resp.data, resp.status_code
        return elapsed

    def touch_a_sheet(n: int) -> None:
        """What a judge updating a submitted sheet does to the board's inputs (its updated_at moves)."""
        with app.app_context():
            sheet = db.session.get(ScoreSheet, 1 + n % (args.entries * args.judges))
            sheet.updated_at = utcnow()
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
    cold, warm = [], []
    for i in range(args.cold_runs):
        touch_a_sheet(i)
        cold.append(timed_get(url))
    for i in range(args.runs):
        warm.append(timed_get(url if i % 2 else f"{url}?page=2"))
    search = [timed_get(f"{url}?q={q}") for q in ("123", "%C4%90%C6%A1n+v%E1%BB%8B+7", "%23500")]
    with app.app_context():
        from app.connections import cache_redis
        from app.services import board
        from app.services.results import ranking

        rnd = db.session.get(Round, round_id)
        numbers = board.cached_numbers(db.session, rnd, cache_redis(), ttl=60)
        fresh = ranking(db.session, rnd)  # what `flask results show` prints
        same = [(r.entry.id, r.rank, r.score) for r in fresh] == list(
            zip(
                numbers.columns["entries"].tolist(),
                numbers.columns["rank"].tolist(),
                numbers.columns["score"].tolist(),
                strict=True,
            )
        )
    stop_processes([redis_proc], timeout=5)
    scores = args.entries * args.judges * 4
    print(
        f"results board, {args.entries} entries × {args.judges} judges × 4 criteria ({scores} scores),",
        url_kind(url_db()),
    )
    print(f"  load average {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")
    print(f"  cold (a sheet changed): runs={len(cold)} median={statistics.median(cold):.0f} ms max={max(cold):.0f} ms")
    print(
        f"  warm: runs={len(warm)} median={statistics.median(warm):.1f} ms",
        f"p90={sorted(warm)[int(len(warm) * 0.9) - 1]:.1f} ms",
    )
    print(f"  searches (rank, unit, #id): {', '.join(f'{t:.0f} ms' for t in search)}")
    print(f"  numbers identical to the CLI's ranking (results show): {same}")
    ok = same and statistics.median(cold) <= 1000 and statistics.median(warm) <= 150
    print(f"  targets cold ≤ 1 s, warm ≤ 150 ms: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


def url_db() -> str:
    return os.environ["DATABASE_URL"]


def url_kind(url: str) -> str:
    return url.split(":")[0]


if __name__ == "__main__":
    sys.exit(main())
