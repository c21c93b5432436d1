"""Organiser results page for 300 entries × 10 judges × 4 criteria: median server time (target ≤ 150 ms).

Usage: .venv/bin/python bench/results_page.py [--entries 300] [--judges 10] [--runs 30]
Uses a fresh SQLite database in a temp dir (DATABASE_URL=postgresql://… to measure on PostgreSQL instead: the
database's tables are dropped and recreated). No Redis or S3 is needed for this page.
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
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-results-")
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
    os.environ["DATABASE_URL"] = url
    if url.startswith("postgresql"):
        from sqlalchemy import text

        from app.db import make_engine

        with make_engine(url).begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, check=True)

    from werkzeug.security import generate_password_hash

    from app import create_app, db
    from app.models import (
        Clip,
        ClipStatus,
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
    )

    # In-process client, no Redis: login throttling off; a one-off key for this run.
    app = create_app({"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "SECRET_KEY": secrets.token_urlsafe(48)})
    rng = random.Random(1)
    with app.app_context():
        s = db.session
        pw = generate_password_hash("bench-pass-1")
        units = [Unit(code=f"U{i:03d}", name=f"Đơn vị {i}") for i in range(100)]
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
        for i in range(args.entries):
            entry = Entry(
                contest_id=contest.id, unit_id=units[i % 100].id, title=f"Tác phẩm {i}", status=EntryStatus.SUBMITTED
            )
            s.add(entry)
            s.flush()
            clip = Clip(entry_id=entry.id, original_key=f"o/{entry.id}", filename="x.mp4", status=ClipStatus.READY)
            s.add(clip)
            s.flush()
            entry.clip_id = clip.id
            quality = rng.random()
            for judge in judges:
                sheet = ScoreSheet(round_id=rnd.id, entry_id=entry.id, judge_id=judge.id, status=SheetStatus.SUBMITTED)
                sheet.scores = [
                    Score(
                        criterion_id=c.id,
                        points=round(min(c.max_points, max(0, c.max_points * (quality + rng.gauss(0, 0.15)))) * 2) / 2,
                    )
                    for c in rnd.criteria
                ]
                s.add(sheet)
        s.commit()
        round_id = rnd.id

    import gc

    gc.collect()
    gc.freeze()  # as wsgi.py does in every gunicorn worker
    client = app.test_client()
    client.post("/login", data={"email": "org@bench.vn", "password": "bench-pass-1"})
    times = []
    for i in range(args.runs + 3):
        start = time.perf_counter()
        resp = client.get(f"/org/rounds/{round_id}/results")
        elapsed = (time.perf_counter() - start) * 1000
        assert resp.status_code == 200 and b"Kendall" in resp.data, resp.status_code
        if i >= 3:  # warm-up: imports, template compilation
            times.append(elapsed)
    median = statistics.median(times)
    p90 = sorted(times)[int(len(times) * 0.9) - 1]
    print(
        f"results page, {args.entries} entries × {args.judges} judges × 4 criteria "
        f"({args.entries * args.judges * 4} scores), {url.split(':')[0]}"
    )
    print(f"  runs={len(times)}  median={median:.1f} ms  p90={p90:.1f} ms  min={min(times):.1f} ms")
    print(f"  target median ≤ 150 ms: {'PASS' if median <= 150 else 'FAIL'}")
    return 0 if median <= 150 else 1


if __name__ == "__main__":
    sys.exit(main())
