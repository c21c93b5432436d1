"""The restore drill: seed a contest (entries, processed clips, scores, a publication), back it up with the documented
command, restore it into a fresh database and bucket, and check that the restored portal shows the same pages and
results and serves byte-identical media. On SQLite and on a private PostgreSQL server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app.models import Award, Clip, Role, Score, ScoreSheet, SheetStatus
from tests.conftest import ROOT, Browser, IsolatedClient, _environment, migrate

pytestmark = pytest.mark.slow

CSRF = re.compile(r'(name="csrf_token"[^>]*value=")[^"]+(")')


def flask(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run a documented `flask --app wsgi` command in its own process."""
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert done.returncode == 0, done.stderr[-3000:]
    return done


def cli(application, *args: str, check: bool = True):
    """Run a `flask` command in this process, on application (its DATABASE_URL and bucket): the same click command as
    `flask()` without the 2-3 s of a new interpreter. The drill's backup and first restore still run as processes."""
    done = application.test_cli_runner().invoke(args=list(args))
    if check:
        assert done.exit_code == 0, done.output[-3000:]
    return done


def _app(env: dict[str, str]):
    from app import create_app

    application = create_app({"TESTING": True, **env})
    application.test_client_class = IsolatedClient
    return application


def _seed(application, sample_clip: Path) -> dict:
    """A published contest with two processed clips, two judges' submitted scores and an award."""
    from app import db
    from app.services import results
    from media_worker.jobs import process_clip
    from tests.factories import Factories

    with application.app_context():
        session = db.session
        make = Factories(session)
        organiser = make.user(Role.ORGANISER)
        judges = [make.user(Role.JUDGE), make.user(Role.JUDGE)]
        contest = make.contest("drill", title="Cuộc thi diễn tập")
        units = [make.unit(name="Phường Bến Nghé"), make.unit(name="Sở Tư pháp")]
        member = make.user(Role.UNIT, unit=units[0])
        entries = []
        for i, unit in enumerate(units):
            entry = make.entry(contest, unit, title=f"Mô hình số {i + 1}", clip_status=None)
            clip = make.uploaded_clip(entry, sample_clip, f"clip-{i}.mp4")
            assert process_clip(clip.id) == "ready"
            entries.append(entry)
        rnd = make.round(contest, judges=judges)
        for j, judge in enumerate(judges):
            for e, entry in enumerate(entries):
                sheet = ScoreSheet(round_id=rnd.id, entry_id=entry.id, judge_id=judge.id, status=SheetStatus.SUBMITTED)
                sheet.scores = [Score(criterion_id=c.id, points=5 + e * 2 + j) for c in rnd.criteria]
                session.add(sheet)
        award = Award(contest_id=contest.id, name="Giải Nhất", count=1)
        session.add(award)
        session.commit()
        results.grant_award(session, actor=organiser, entry=entries[1], award=award)
        results.publish(session, actor=organiser, contest=contest, rnd=rnd)
        session.commit()
        clips = [session.get(Clip, e.clip_id) for e in entries]
        return {
            "organiser": organiser.email,
            "member": member.email,
            "entry": entries[0].id,
            "round": rnd.id,
            "clips": {
                c.id: [r["name"] + ".mp4" for r in c.renditions] + ["poster.jpg", "storyboard.jpg"] for c in clips
            },
            "objects": {c.id: [c.original_key] for c in clips},
        }


def _snapshot(application, seed: dict) -> dict[str, bytes | str]:
    """What people see: public pages, the organiser's contest and results, a unit's entry, every media file."""
    seen: dict[str, bytes | str] = {}
    public = application.test_client()
    for path in ("/?lang=vi", "/c/drill?lang=vi", "/c/drill/winners?lang=vi", "/c/drill/winners?lang=en"):
        resp = public.get(path, follow_redirects=True)
        assert resp.status_code == 200, path
        seen[path] = CSRF.sub(r"\1-\2", resp.get_data(as_text=True))
    organiser = Browser(application.test_client())
    organiser.login(seed["organiser"])
    for path in ("/org/c/drill?lang=vi", f"/org/rounds/{seed['round']}/results?lang=en"):
        resp = organiser.get(path)
        assert resp.status_code == 200, path
        seen[path] = CSRF.sub(r"\1-\2", resp.get_data(as_text=True))
    for clip_id, names in seed["clips"].items():
        for name in names:
            resp = organiser.get(f"/media/clips/{clip_id}/{name}")
            assert resp.status_code == 200 and len(resp.data) > 0, name
            seen[f"media {clip_id}/{name}"] = resp.data
    unit = Browser(application.test_client())
    unit.login(seed["member"])
    seen["unit entry"] = CSRF.sub(r"\1-\2", unit.get(f"/unit/entries/{seed['entry']}?lang=vi").get_data(as_text=True))
    return seen


def _drill(source_env: dict[str, str], target_env: dict[str, str], tmp_path: Path, sample_clip: Path) -> None:
    from app.storage import Storage

    with _environment(source_env):
        source = _app(source_env)
        Storage.from_config(source.config).ensure_bucket()
        seed = _seed(source, sample_clip)
        before = _snapshot(source, seed)
        results_before = json.loads(cli(source, "results", "show", "--contest", "drill").stdout)

    backup = tmp_path / "backup"
    made = json.loads(flask(source_env, "backup", "create", "--out", str(backup)).stdout)
    manifest = json.loads((backup / "manifest.json").read_text())
    assert made["objects"] == len(manifest["objects"]) >= 2 * 6
    assert all(re.fullmatch(r"[0-9a-f]{64}", o["sha256"]) for o in manifest["objects"])
    assert manifest["database"]["alembic_revision"]

    restored = json.loads(flask(target_env, "backup", "restore", str(backup)).stdout)
    assert restored["objects"] == made["objects"] and restored["bytes"] == made["bytes"]
    with _environment(target_env):
        target = _app(target_env)
        after = _snapshot(target, seed)
        results_after = json.loads(cli(target, "results", "show", "--contest", "drill").stdout)
        store = Storage.from_config(target.config)
        assert sorted(store.keys()) == sorted(o["key"] for o in manifest["objects"])

        assert results_after == results_before
        assert after.keys() == before.keys()
        for name, page in before.items():
            assert after[name] == page, f"{name} differs after the restore"

        # A restore never writes over data: into the now filled database and bucket it refuses.
        again = cli(target, "backup", "restore", str(backup), check=False)
        assert again.exit_code == 1 and "not empty" in again.stderr

        # A deleted entry's files come back alone, without touching the database (docs/deploy.md).
        clip_id = next(iter(seed["clips"]))
        lost = store.keys(f"originals/{clip_id}/") + store.keys(f"derived/{clip_id}/")
        for key in lost:
            store.delete(key)
        back = cli(
            target,
            *("backup", "restore", str(backup), "--objects-only"),
            *("--prefix", f"originals/{clip_id}/", "--prefix", f"derived/{clip_id}/"),
        )
        assert json.loads(back.stdout)["objects"] == len(lost) >= 6
        for key in lost:
            assert b"".join(store.open_range(key)) == (backup / "objects" / key).read_bytes()

    # A damaged backup is refused before anything is written.
    damaged = next(o for o in manifest["objects"] if o["key"].endswith(".mp4"))
    path = backup / "objects" / damaged["key"]
    path.write_bytes(b"x" + path.read_bytes()[1:])
    other_env = {**target_env, "S3_BUCKET": target_env["S3_BUCKET"] + "-2"}
    with _environment(other_env):
        refused = cli(_app(other_env), "backup", "restore", str(backup), check=False)
    assert refused.exit_code == 1 and "damaged" in refused.stderr and damaged["key"] in refused.stderr


def test_restore_drill_on_sqlite(outage, tmp_path, sample_clip):
    source_env = {**outage.env, "DATABASE_URL": f"sqlite:///{tmp_path / 'source.sqlite3'}"}
    migrate(source_env["DATABASE_URL"])
    target_env = {
        **outage.env,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'restored' / 'portal.sqlite3'}",  # not even its folder exists yet
        "S3_BUCKET": outage.env["S3_BUCKET"] + "-restored",
    }
    _drill(source_env, target_env, tmp_path, sample_clip)


def test_restore_drill_on_postgresql(outage, private_postgres, tmp_path, sample_clip):
    source_env = {**outage.env, "DATABASE_URL": private_postgres.create_database("drill_source")}
    migrate(source_env["DATABASE_URL"])
    target_env = {
        **outage.env,
        "DATABASE_URL": private_postgres.create_database("drill_restored"),  # empty: no schema at all
        "S3_BUCKET": outage.env["S3_BUCKET"] + "-restored",
    }
    _drill(source_env, target_env, tmp_path, sample_clip)
