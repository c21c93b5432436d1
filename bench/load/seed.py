"""Create the load scenarios' data in the configured database and store; print it as JSON for the locustfile.

Usage (run.py calls it after `flask --app wsgi demo seed`, with --published for results night):
    .venv/bin/python bench/load/seed.py --units 300 --judges 30 --entries 120 [--busy-clips 0] > seed.json

Unit members, judges and their one password are made here, with the password hashed once and reused (scrypt at the
configured cost for every account would take minutes, and the scenarios measure logging in, not seeding).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

PASSWORD = "load-pass-2026"  # noqa: S105 - throwaway accounts of a local benchmark database
RUSH = "load-rush"
JUDGING = "load-judging"
BUSY = "load-busy"
# What a judged entry's clip copies from the one processed template clip (keys, probe, renditions, size).
_TEMPLATE_FIELDS = [
    "filename",
    "content_type",
    "size_bytes",
    "probe",
    "duration_s",
    "width",
    "height",
    "renditions",
    "poster_key",
    "poster_small_key",
    "storyboard_key",
    "storyboard_vtt_key",
]
CRITERIA = [
    {"name": "Nội dung", "max_points": 40, "weight": 1, "step": 0.5},
    {"name": "Sáng tạo", "max_points": 30, "weight": 1, "step": 0.5},
    {"name": "Kỹ thuật", "max_points": 30, "weight": 1, "step": 0.5},
]


def seed(session, store, *, units: int, judges: int, entries: int, busy_clips: int) -> dict:
    """Units with one member each (rush), a round with its panel and submitted entries with ready clips (judging),
    and the published demo contest's round and winners (results night)."""
    from sqlalchemy import select

    from app import passwords
    from app.models import Clip, ClipStatus, Contest, EntryStatus, Role, Round, RoundStatus, User, utcnow
    from app.services import accounts, contests, rounds
    from app.services import entries as entry_service

    hashed = passwords.hash_password(PASSWORD)
    now = utcnow()

    def user(email: str, name: str, role: Role, unit=None) -> User:
        account = accounts.create_user(session, email=email, name=name, password=None, role=role, unit=unit)
        account.password_hash = hashed
        return account

    def load_contest(slug: str, title: str, *, opened_days_ago: int, **rules):
        """A contest of the load data: open since opened_days_ago, closing tomorrow, 3 entries per unit."""
        return contests.create_contest(
            session,
            slug=slug,
            title=title,
            description="Dữ liệu thử tải.",
            opens_at=now - timedelta(days=opened_days_ago),
            closes_at=now + timedelta(days=1),
            max_entries_per_unit=3,
            **rules,
        )

    rush = load_contest(
        RUSH, "Cuộc thi thử tải: hạn chót", opened_days_ago=10, min_duration_s=1, max_duration_s=60, min_height=240
    )
    unit_rows, unit_users = [], []
    for n in range(1, units + 1):
        unit = accounts.create_unit(session, code=f"LOAD-{n:04d}", name=f"Đơn vị thử tải {n}", kind="ward")
        unit_rows.append(unit)
        unit_users.append(user(f"unit{n:04d}@thu-tai.vn", f"Cán bộ đơn vị {n}", Role.UNIT, unit).email)
    # run.py's CPU probe works with a unit that no locust user works for: it never takes one of a rush unit's 3 places
    # (it once created its entry as the last rush user, whose third entry was then refused: 5 errors at city scale).
    probe_unit = accounts.create_unit(session, code="LOAD-PROBE", name="Đơn vị đo CPU", kind="ward")
    probe_user = user("probe@thu-tai.vn", "Cán bộ đo CPU", Role.UNIT, probe_unit)
    session.flush()

    # Entries come in while it accepts them; it closes before judging.
    judging = load_contest(JUDGING, "Cuộc thi thử tải: chấm điểm", opened_days_ago=30)
    # A processed clip of the published demo when there is one; else rows alone (the pages read them, not the media).
    template = session.scalar(select(Clip).where(Clip.status == ClipStatus.READY).order_by(Clip.id)) or Clip(
        filename="clip.mp4", content_type="video/mp4", size_bytes=1, duration_s=6.0, width=854, height=480
    )

    def entry_with_clip(member: User, contest: Contest, unit, title: str):
        """An entry of unit with a ready clip copied from the template (rows only: the pages read them, not media)."""
        entry = entry_service.create_entry(
            session, user=member, contest=contest, unit=unit, title=title, summary="Tóm tắt."
        )
        session.flush()
        clip = Clip(
            entry_id=entry.id,
            original_key=f"load/originals/{entry.id}.mp4",
            status=ClipStatus.READY,
            progress=1.0,
            **{name: getattr(template, name) for name in _TEMPLATE_FIELDS},
        )
        session.add(clip)
        session.flush()
        entry.clip_id = clip.id
        return entry

    entry_ids = []
    for n in range(entries):
        unit = unit_rows[n % len(unit_rows)]
        member = session.scalar(select(User).where(User.unit_id == unit.id))
        entry = entry_with_clip(member, judging, unit, f"Tác phẩm thử tải {n + 1}")
        entry.status = EntryStatus.SUBMITTED
        entry.submitted_at = now
        entry_ids.append(entry.id)
    judging.closes_at = now - timedelta(days=1)
    # The probe's entry has a processed clip: its entry page and status poll show a clip, as the rush's do.
    probe_entry = entry_with_clip(probe_user, rush, probe_unit, "Đo CPU")
    judge_rows = [user(f"judge{n:03d}@thu-tai.vn", f"Giám khảo {n}", Role.JUDGE) for n in range(1, judges + 1)]
    session.flush()
    rnd = rounds.create_round(session, contest=judging, name="Sơ khảo", criteria=CRITERIA)
    rounds.set_panel(session, actor=None, rnd=rnd, judges=judge_rows)
    rounds.set_round_status(session, actor=None, rnd=rnd, status=RoundStatus.OPEN)
    session.flush()

    published = session.scalar(select(Contest).where(Contest.slug == "demo-published"))
    results_round = published and session.scalar(
        select(Round.id).where(Round.contest_id == published.id).order_by(Round.id)
    )

    busy = []
    if busy_clips:
        busy = _busy_clips(session, store, count=busy_clips, unit=unit_rows[0], now=now)
    return {
        "password": PASSWORD,
        "rush": {"slug": RUSH, "users": unit_users, "probe": probe_user.email, "probe_entry": probe_entry.id},
        "judging": {
            "round_id": rnd.id,
            "entry_ids": entry_ids,
            "criteria": [c.id for c in rnd.criteria],
            "users": [j.email for j in judge_rows],
        },
        # Results night needs `flask --app wsgi demo seed --published` first (judged, awarded, published).
        "results": published and {"slug": published.slug, "round_id": results_round, "organiser": "organiser@demo.vn"},
        "demo_password": passwords.DEMO_PASSWORD,
        "busy_clips": busy,
    }


def _busy_clips(session, store, *, count: int, unit, now) -> list[int]:
    """Long 1080p clips waiting for the worker (uploaded, not queued): they keep one worker transcoding."""
    from sqlalchemy import select

    from app.demo_clips import make_synthetic_clip
    from app.models import User
    from app.services import contests
    from app.services import entries as entry_service

    contest = contests.create_contest(
        session,
        slug=BUSY,
        title="Cuộc thi thử tải: máy xử lý bận",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=1),
        max_entries_per_unit=count,
    )
    member = session.scalar(select(User).where(User.unit_id == unit.id))
    ids = []
    with tempfile.TemporaryDirectory(prefix="load-busy-") as tmp:
        path = make_synthetic_clip(Path(tmp) / "busy.mp4", seconds=60, size="1920x1080")
        for n in range(count):
            with path.open("rb") as stream:
                clip = entry_service.import_clip(
                    session,
                    store,
                    actor=None,
                    contest=contest,
                    unit=unit,
                    title=f"Clip dài {n + 1}",
                    summary="",
                    authors=member.name,
                    stream=stream,
                    filename="busy.mp4",
                    content_type="video/mp4",
                )
            ids.append(clip.id)
    return ids


def main() -> int:
    parser = argparse.ArgumentParser(description="Create the load scenarios' data; print it as JSON.")
    parser.add_argument("--units", type=int, default=300, help="units, one member each (rush)")
    parser.add_argument("--judges", type=int, default=30, help="judges on the round's panel (judging)")
    parser.add_argument("--entries", type=int, default=120, help="submitted entries with ready clips (judging)")
    parser.add_argument("--busy-clips", type=int, default=0, help="long clips left for the worker to transcode")
    args = parser.parse_args()
    from app import create_app, db
    from app.connections import storage

    app = create_app()
    with app.app_context():
        session = db.session()
        doc = seed(
            session, storage(), units=args.units, judges=args.judges, entries=args.entries, busy_clips=args.busy_clips
        )
        session.commit()
    json.dump(doc, sys.stdout, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
