"""Time the bulk unit import and the scheduled reminders at the scale of a large city contest.

Usage:  .venv/bin/python bench/units_and_reminders.py [--units N] [--database-url URL]

Builds a CSV of N units (each with a contact account), runs `flask --app wsgi units import FILE --invite` in a fresh
interpreter on a fresh migrated database, then times `send_reminders` (one deadline occasion: every unit lacks an
entry, so every contact gets a mail) twice: the first run writes the outbox rows, the second finds them all written
(what each worker's periodic run costs afterwards). Mail stays in the outbox (no SMTP_URL).
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=700)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-units-"))
    env = {
        **os.environ,
        "SECRET_KEY": "bench-secret-key-bench-secret-key-0123456789",
        "DATABASE_URL": args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}",
        "PASSWORD_SCRYPT_N": "1024",
        "PUBLIC_URL": "http://portal.bench",
    }
    env.pop("SMTP_URL", None)
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    source = folder / "units.csv"
    with source.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["Mã đơn vị", "Tên đơn vị", "Loại đơn vị", "Người liên hệ", "Thư điện tử liên hệ", "Điện thoại"]
        )
        for i in range(args.units):
            writer.writerow([f"P-{i:04d}", f"Phường {i}", "Phường", f"Nguyễn Văn {i}", f"p{i}@bench.vn", "0281234567"])
    for label, args_ in (
        ("interpreter and app start only (baseline)", ["units", "--help"]),
        ("import (creates, invites)", ["units", "import", str(source), "--invite"]),
        ("import again (changes nothing)", ["units", "import", str(source), "--invite"]),
    ):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run([*flask, *args_], cwd=ROOT, env=env, capture_output=True, text=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        summary = " ".join(line.strip() for line in done.stdout.splitlines()[1:4]) if "import" in args_ else ""
        print(f"{label}: wall {time.perf_counter() - started:.2f} s, cpu {cpu:.2f} s  {summary}")

    os.environ.update(env)
    from app import create_app
    from app.models import utcnow
    from app.notification_jobs import send_reminders
    from app.services import contests

    app = create_app()
    with app.app_context():
        from app import db

        closes = utcnow() + timedelta(days=10)
        contests.create_contest(
            db.session, slug="bench", title="Bench", opens_at=utcnow() - timedelta(days=1), closes_at=closes
        )
        db.session.commit()
    for label in ("reminders, first run", "reminders, second run"):
        started, cpu = time.perf_counter(), time.process_time()
        written = send_reminders(closes - timedelta(hours=20), app=app)
        print(f"{label}: wall {time.perf_counter() - started:.2f} s, cpu {time.process_time() - cpu:.2f} s  {written}")
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
