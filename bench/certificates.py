"""Certificates for 100 award recipients: the time to render all of them as PDFs and a ZIP (target ≤ 10 s).

Usage: .venv/bin/python bench/certificates.py [--recipients 100] [--runs 3]
Uses a fresh SQLite database in a temp dir and a synthetic publication snapshot (Vietnamese names and titles); no
Redis or S3 is needed: it times the work that the ZIP job (and `flask awards certificates`) does.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ"]
GIVEN = ["Thị Hồng Nhung", "Văn Đức", "Minh Châu", "Thị Thu Hà", "Quốc Việt", "Ngọc Ánh", "Đình Khải", "Thị Yến"]


def snapshot(recipients: int) -> dict:
    """Half group prizes (to units), half individual prizes with two authors each."""
    awards = []
    n = 0
    entry_id = 0
    while n < recipients:
        entry_id += 1
        individual = entry_id % 2 == 0 and recipients - n >= 2
        names = [f"{SURNAMES[(entry_id + k) % 13]} {GIVEN[(entry_id * 3 + k) % 8]}" for k in range(2)]
        awards.append(
            {
                "name": f"Giải Khuyến khích số {entry_id}" if not individual else f"Giải cá nhân số {entry_id}",
                "count": 1,
                "kind": "individual" if individual else "group",
                "winners": [
                    {
                        "entry_id": entry_id,
                        "title": f"Sáng kiến bình đẳng giới ở khu dân cư số {entry_id}",
                        "unit": f"UBND phường Vĩnh Ninh {entry_id}",
                        "authors": ", ".join(names),
                        "author_names": names if individual else [],
                        "rank": entry_id,
                        "score": 80.0,
                    }
                ],
            }
        )
        n += 2 if individual else 1
    return {"contest": "bench", "title": "Cuộc thi tìm hiểu pháp luật về bình đẳng giới năm 2027", "awards": awards}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-certificates-")
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, check=True)

    from app import create_app, db
    from app.models import Contest, Publication
    from app.paperwork.links import verify_url_maker
    from app.paperwork.render import certificates_zip, render_certificates
    from app.services import paperwork

    app = create_app({"PUBLIC_URL": "https://cuocthi.hue.gov.vn"})
    with app.app_context():
        s = db.session
        contest = Contest(
            slug="bench",
            title="Bench",
            paper_place="Huế",
            paper_date=date(2027, 1, 15),
            signer_title="TRƯỞNG BAN TỔ CHỨC",
            signer_name="Lê Thị Thu Hà",
        )
        s.add(contest)
        s.flush()
        s.add(Publication(contest_id=contest.id, snapshot=snapshot(args.recipients)))
        s.flush()
        started = time.perf_counter()
        certificates = paperwork.issue_certificates(s, actor=None, contest=contest)
        s.commit()
        issue_s = time.perf_counter() - started
        pub = certificates[0].publication
        make_url = verify_url_maker()
        times, cpu, sizes = [], [], []
        for _ in range(args.runs):
            started, started_cpu = time.perf_counter(), time.process_time()
            data = certificates_zip(render_certificates(contest, pub, certificates, make_url))
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
            sizes.append(len(data))
    print(f"recipients: {len(certificates)} (issued in {issue_s:.2f} s)")
    print(f"render {len(certificates)} PDFs + ZIP: " + ", ".join(f"{t:.2f} s" for t in times))
    print(f"median: {statistics.median(times):.2f} s (target ≤ 10 s); ZIP {sizes[-1] / 1024:.0f} KiB")
    print("CPU time of this process: " + ", ".join(f"{t:.2f} s" for t in cpu) + " (what an idle machine would take)")
    print(f"load average: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
