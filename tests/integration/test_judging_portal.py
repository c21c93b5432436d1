"""Judging in the portal: assignment, conflicts, blind rounds, locking and reopening, results board, exports,
shortlists, tie-breaks and the audit log."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from collections import Counter

import pytest
from openpyxl import load_workbook

from app.models import Assignment, AuditEvent, Conflict, Role, Round, RoundStatus, Score, ScoreSheet, SheetStatus
from app.services import rounds, scoring

pytestmark = pytest.mark.database_only  # but for the blind round test, which asks for `services`


def _submit(session, rnd, entry, judge, points):
    sheet = ScoreSheet(round_id=rnd.id, entry_id=entry.id, judge_id=judge.id, status=SheetStatus.SUBMITTED)
    sheet.scores = [Score(criterion_id=c.id, points=p) for c, p in zip(rnd.criteria, points, strict=False)]
    session.add(sheet)
    session.commit()
    return sheet


@pytest.fixture
def panel(make):
    units = [make.unit(f"PU{i}") for i in range(3)]
    contest = make.contest("panel")
    entries = [make.entry(contest, units[i % 3], title=f"Entry {i}") for i in range(6)]
    judges = [
        make.user(Role.JUDGE, units[0]),
        make.user(Role.JUDGE, units[1]),
        make.user(Role.JUDGE),
        make.user(Role.JUDGE),
    ]
    organiser = make.user(Role.ORGANISER)
    rnd = make.round(contest, judges=judges)
    return dict(units=units, contest=contest, entries=entries, judges=judges, organiser=organiser, rnd=rnd)


def test_k_per_entry_assignment_is_balanced_and_conflict_free(browser, session, panel):
    rnd, judges = panel["rnd"], panel["judges"]
    browser.login(panel["organiser"].email)
    assert browser.post(f"/org/rounds/{rnd.id}/assign", data={"per_entry": "2", "seed": "7"}).status_code == 302
    pairs = [(a.entry_id, a.judge_id) for a in session.query(Assignment).filter_by(round_id=rnd.id)]
    per_entry = Counter(e for e, _ in pairs)
    assert set(per_entry.values()) == {2} and len(per_entry) == 6
    units = {j.id: j.unit_id for j in judges}
    entry_units = {e.id: e.unit_id for e in panel["entries"]}
    assert all(units[j] is None or units[j] != entry_units[e] for e, j in pairs)
    loads = Counter(j for _, j in pairs)
    assert max(loads.values()) - min(loads.values()) <= 1
    # Judges see exactly their assignments.
    session.expire_all()
    for judge in judges:
        mine = {e.id for e in scoring.assigned_entries(session, judge=judge, rnd=rnd)}
        assert mine == {e for e, j in pairs if j == judge.id}
    # Same seed, same draw.
    browser.post(f"/org/rounds/{rnd.id}/assign", data={"per_entry": "2", "seed": "7"})
    assert sorted(pairs) == sorted(
        (a.entry_id, a.judge_id) for a in session.query(Assignment).filter_by(round_id=rnd.id)
    )


def test_conflict_declaration_and_reassignment_are_audited(browser, session, panel):
    rnd, judges = panel["rnd"], panel["judges"]
    rounds.assign_per_entry(session, actor=panel["organiser"], rnd=rnd, entries=panel["entries"], per_entry=2)
    session.commit()
    judge = judges[2]
    entry_id = session.query(Assignment).filter_by(round_id=rnd.id, judge_id=judge.id).first().entry_id
    browser.login(judge.email)
    url = f"/judge/rounds/{rnd.id}/entries/{entry_id}"
    assert browser.get(url).status_code == 200
    assert browser.post(f"{url}/conflict", data={"reason": "x"}).status_code == 302  # too short: refused
    assert session.query(Conflict).count() == 0
    browser.post(f"{url}/conflict", data={"reason": "Tôi là người hướng dẫn nhóm tác giả"})
    assert browser.get(url).status_code == 404
    browser.client.post("/logout", data={"csrf_token": browser.token("/")})

    browser.login(panel["organiser"].email)
    page = browser.get(f"/org/rounds/{rnd.id}").get_data(as_text=True)
    assert "Tôi là người hướng dẫn nhóm tác giả" in page
    taken = {a.judge_id for a in session.query(Assignment).filter_by(round_id=rnd.id, entry_id=entry_id)}
    entry_unit = next(e.unit_id for e in panel["entries"] if e.id == entry_id)
    target = next(j for j in judges if j.id not in taken and j.unit_id != entry_unit)
    browser.post(
        f"/org/rounds/{rnd.id}/reassign", data={"entry_id": entry_id, "from_judge": judge.id, "to_judge": target.id}
    )
    session.expire_all()
    now = {a.judge_id for a in session.query(Assignment).filter_by(round_id=rnd.id, entry_id=entry_id)}
    assert judge.id not in now and target.id in now and len(now) == 2
    actions = [e.action for e in session.query(AuditEvent).order_by(AuditEvent.id)]
    assert "conflict.declare" in actions and "assignment.move" in actions


def test_next_entry_is_the_one_with_fewest_submitted_sheets(session, panel):
    rnd, judges, entries = panel["rnd"], panel["judges"], panel["entries"]
    neutral, other = judges[2], judges[3]
    for e in entries[:2]:
        _submit(session, rnd, e, other, (5, 5))
    assert scoring.next_entry(session, judge=neutral, rnd=rnd).id == entries[2].id
    _submit(session, rnd, entries[2], neutral, (5, 5))
    assert scoring.next_entry(session, judge=neutral, rnd=rnd).id == entries[3].id


def test_closed_round_locks_sheets_until_the_organiser_reopens_one(browser, session, panel):
    rnd, judge, entry = panel["rnd"], panel["judges"][2], panel["entries"][0]
    sheet = _submit(session, rnd, entry, judge, (6, 6))
    rnd.status = RoundStatus.CLOSED
    session.commit()
    browser.login(judge.email)
    url = f"/judge/rounds/{rnd.id}/entries/{entry.id}"
    page = browser.get(url).get_data(as_text=True)
    assert "<fieldset disabled>" in page
    data = {f"c{c.id}": "9" for c in rnd.criteria} | {"action": "submit"}
    browser.post(url, data=data)
    session.expire_all()
    assert [s.points for s in session.get(ScoreSheet, sheet.id).scores] == [6, 6]
    browser.client.post("/logout", data={"csrf_token": browser.token("/")})

    browser.login(panel["organiser"].email)
    browser.post(f"/org/sheets/{sheet.id}/reopen")
    browser.client.post("/logout", data={"csrf_token": browser.token("/")})
    browser.login(judge.email)
    assert browser.post(url, data=data).status_code == 302
    session.expire_all()
    assert [s.points for s in session.get(ScoreSheet, sheet.id).scores] == [9, 9]
    events = [(e.action, e.actor_id) for e in session.query(AuditEvent).order_by(AuditEvent.id)]
    assert ("sheet.reopen", panel["organiser"].id) in events and ("sheet.submit", judge.id) in events


def test_results_board_exports_and_audit(browser, session, panel, make):
    rnd, judges, entries = panel["rnd"], panel["judges"], panel["entries"]
    # Judges 2 and 3 score everything; judge 3 is much harsher on entry 0 (a disagreement).
    for i, e in enumerate(entries):
        _submit(session, rnd, e, judges[2], (i + 2, i + 2))
        _submit(session, rnd, e, judges[3], (1, 0) if i == 0 else (i + 1, i + 3))
    _submit(session, rnd, entries[5], judges[0], (10, 10)) if entries[5].unit_id != judges[0].unit_id else None
    browser.login(panel["organiser"].email)
    page = browser.get(f"/org/rounds/{rnd.id}/results?lang=en").get_data(as_text=True)
    for label in ("Median", "Trimmed mean", "Z-score", "Borda", "Kendall", "ICC2", "Judge leniency"):
        assert label in page, label
    resp = browser.get(f"/org/rounds/{rnd.id}/export.xlsx")
    assert resp.status_code == 200
    book = load_workbook(io.BytesIO(resp.data))
    assert book.sheetnames == ["Kết quả", "Ma trận điểm"]
    header = [c.value for c in book["Kết quả"][1]]
    assert header[:3] == ["Hạng", "Mã tác phẩm", "Tên tác phẩm"]
    assert book["Kết quả"].max_row == 7
    assert book["Ma trận điểm"].max_row == 1 + sum(len(s.scores) for s in session.query(ScoreSheet))
    text = browser.get(f"/org/rounds/{rnd.id}/export.csv").data.decode("utf-8")
    assert text.startswith("\ufeffHạng,")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert [int(r[0]) for r in rows[1:]] == sorted(int(r[0]) for r in rows[1:])
    scores_csv = browser.get(f"/org/rounds/{rnd.id}/export.csv?what=scores").data.decode("utf-8")
    assert "Giám khảo" in scores_csv.splitlines()[0]
    audit = browser.get(f"/org/c/{panel['contest'].slug}/audit?format=csv").data.decode("utf-8")
    assert "panel.set" in audit


def test_advance_top_n_into_a_shortlist_round(browser, session, panel, make):
    rnd, judges, entries, contest = panel["rnd"], panel["judges"], panel["entries"], panel["contest"]
    for i, e in enumerate(entries):
        _submit(session, rnd, e, judges[2], (i, i))
    final = make.round(contest, name="Chung khảo", judges=[judges[3]])
    browser.login(panel["organiser"].email)
    browser.post(f"/org/rounds/{rnd.id}/advance", data={"target": final.id, "top": "2"})
    session.expire_all()
    shortlisted = {e.id for e in scoring.assigned_entries(session, judge=judges[3], rnd=final)}
    assert shortlisted == {entries[5].id, entries[4].id}


def test_tie_break_by_criterion_is_applied_and_explained(session, make):
    from app.services.results import ranking

    unit = make.unit()
    contest = make.contest()
    judge = make.user(Role.JUDGE)
    rnd = make.round(contest, judges=[judge])
    rnd.tie_breaks = ["criterion:Technique"]
    session.commit()
    a, b = make.entry(contest, unit, title="A"), make.entry(contest, unit, title="B")
    _submit(session, rnd, a, judge, (4, 2))  # total 4*2 + 2 = 10
    _submit(session, rnd, b, judge, (3, 4))  # total 3*2 + 4 = 10, better Technique
    rows = ranking(session, rnd)
    assert [(r.entry.title, r.rank, r.tied) for r in rows] == [("B", 1, False), ("A", 2, False)]
    assert rows[0].tie_break


@pytest.mark.slow
def test_blind_round_hides_identity_from_judges_everywhere(services, app, browser, session, make, run_jobs, tmp_path):
    from app.connections import enqueue_processing

    unit = make.unit("SECRETWARD", "Phường Bí Mật")
    contest = make.contest("blind")
    judge = make.user(Role.JUDGE)
    rnd = make.round(contest, judges=[judge], blind=True)
    entry = make.entry(contest, unit, title="Clip ẩn danh", clip_status=None)
    entry.authors = "Nguyễn Văn Tác Giả"
    session.commit()
    source = tmp_path / "phuong-bi-mat.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25:duration=2",
            "-metadata",
            "title=Phường Bí Mật",
            "-metadata",
            "artist=Nguyễn Văn Tác Giả",
            "-metadata",
            "comment=SECRETWARD",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            str(source),
        ],
        check=True,
    )
    clip = make.uploaded_clip(entry, source)
    enqueue_processing(clip.id)
    run_jobs()
    browser.login(judge.email)
    secrets = ("Phường Bí Mật", "SECRETWARD", "Nguyễn Văn Tác Giả", "phuong-bi-mat")
    for url in ("/judge/", f"/judge/rounds/{rnd.id}/entries/{entry.id}"):
        page = browser.get(url).get_data(as_text=True)
        assert not [s for s in secrets if s in page], url
    for name in ("play.mp4", "poster.jpg", "storyboard.vtt"):
        resp = browser.get(f"/media/clips/{clip.id}/{name}")
        assert resp.status_code == 200
        assert not [s for s in secrets if s.encode() in resp.data or s in resp.headers.get("Content-Disposition", "")]
    video = tmp_path / "downloaded.mp4"
    video.write_bytes(browser.get(f"/media/clips/{clip.id}/play.mp4").data)
    probe = json.loads(
        subprocess.run(
            ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(video)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    dumped = json.dumps(probe, ensure_ascii=False)
    assert not [s for s in secrets if s in dumped]


def test_published_ranking_can_be_recomputed_with_the_judging_cli(browser, session, panel, tmp_path):
    """The portal's exports fed to `python -m judging rank` give the same ranks and scores, to the decimal."""
    import sys

    from app.services.results import ranking
    from tests.conftest import ROOT

    rnd, judges, entries = panel["rnd"], panel["judges"], panel["entries"]
    rnd.tie_breaks = ["median"]
    session.commit()
    for i, e in enumerate(entries):
        _submit(session, rnd, e, judges[2], ((i * 3) % 7 + 0.5, i % 4))
        _submit(session, rnd, e, judges[3], ((i * 5) % 9, (i * 2) % 5))
    browser.login(panel["organiser"].email)
    for what in ("judging-scores", "judging-rubric"):
        (tmp_path / f"{what}.csv").write_bytes(browser.get(f"/org/rounds/{rnd.id}/export.csv?what={what}").data)
    for method in ("mean", "zscore", "borda"):
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "judging",
                "rank",
                str(tmp_path / "judging-scores.csv"),
                "--rubric",
                str(tmp_path / "judging-rubric.csv"),
                "--method",
                method,
                "--tie-break",
                "median",
                "--json",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        doc = json.loads(out.stdout)
        lines = doc["ranking"] if isinstance(doc, dict) else doc
        cli = [(int(r["entry"]), r["rank"], round(r["score"], 9)) for r in lines]
        portal = [(r.entry.id, r.rank, round(r.score, 9)) for r in ranking(session, rnd, method=method)]
        assert cli == portal, method


@pytest.mark.parametrize("mode", ["panel", "per_entry"])
def test_panel_progress_matches_each_judges_own_progress(session, panel, mode):
    rnd, judges, entries = panel["rnd"], panel["judges"], panel["entries"]
    if mode == "per_entry":
        rounds.assign_per_entry(session, actor=panel["organiser"], rnd=rnd, entries=entries, per_entry=2)
    rounds.declare_conflict(session, judge=judges[3], rnd=rnd, entry=entries[1], reason="Người thân tác giả")
    session.commit()
    for judge in judges:
        for i, entry in enumerate(scoring.assigned_entries(session, judge=judge, rnd=rnd)):
            sheet = _submit(session, rnd, entry, judge, (5, 5))
            if i % 2:
                sheet.status = SheetStatus.DRAFT
                session.commit()
    together = scoring.panel_progress(session, rnd=rnd, judges=judges)
    for judge in judges:
        assert together[judge.id] == scoring.judge_progress(session, judge=judge, rnd=rnd)
    assert any(p.drafts for p in together.values()) and all(p.total for p in together.values())


def test_planned_closing_time_locks_scores_without_a_click(browser, session, panel):
    from datetime import timedelta

    from app.models import utcnow

    rnd, judge, entry = panel["rnd"], panel["judges"][2], panel["entries"][0]
    rnd.closes_at = utcnow() - timedelta(minutes=1)
    session.commit()
    browser.login(judge.email)
    url = f"/judge/rounds/{rnd.id}/entries/{entry.id}"
    assert "<fieldset disabled>" in browser.get(url).get_data(as_text=True)
    browser.post(url, data={f"c{c.id}": "5" for c in rnd.criteria} | {"action": "submit"})
    assert session.query(ScoreSheet).count() == 0
    browser.client.post("/logout", data={"csrf_token": browser.token("/")})
    # Reopening by hand after the planned close opens it until closed again.
    browser.login(panel["organiser"].email)
    browser.post(f"/org/rounds/{rnd.id}/status", data={"status": "open"})
    browser.client.post("/logout", data={"csrf_token": browser.token("/")})
    browser.login(judge.email)
    assert browser.post(url, data={f"c{c.id}": "5" for c in rnd.criteria} | {"action": "submit"}).status_code == 302
    assert session.query(ScoreSheet).count() == 1


def _rubric_names(data: dict, style: str) -> dict:
    """Rubric rows as the form names them (criteria-0-name) or as they were posted before (name0), still accepted."""
    if style == "legacy":
        return data
    out = {}
    for key, value in data.items():
        match = re.fullmatch(r"(name|description|max_points|weight|step|levels)(\d+)", key)
        out[f"criteria-{match[2]}-{match[1]}" if match else key] = value
    return out


@pytest.mark.parametrize("style", ["fieldlist", "legacy"])
def test_round_form_creates_a_round_with_everything(browser, session, panel, style):
    browser.login(panel["organiser"].email)
    data = _rubric_names(
        {
            "name": "Chung khảo",
            "aggregation": "trimmed_mean",
            "trim": "1",
            "assignment_mode": "per_entry",
            "per_entry": "2",
            "flag_threshold": "12.5",
            "blind": "y",
            "tie_breaks": "criterion:Nội dung\nmedian",
            "opens_at": "2030-06-01T08:00",
            "closes_at": "2030-06-10T17:00",
            "name0": "Nội dung",
            "max_points0": "40",
            "weight0": "2",
            "step0": "0,5",
            "levels0": "40: Xuất sắc; 30: Tốt; 10: Yếu",
            "name1": "Kỹ thuật",
            "max_points1": "20",
        },
        style,
    )
    resp = browser.post(f"/org/c/{panel['contest'].slug}/rounds/new", data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    rnd = session.query(Round).filter_by(name="Chung khảo").one()
    assert (rnd.aggregation, rnd.trim, rnd.assignment_mode, rnd.per_entry, rnd.flag_threshold, rnd.blind) == (
        "trimmed_mean",
        1,
        "per_entry",
        2,
        12.5,
        True,
    )
    assert rnd.tie_breaks == ["criterion:Nội dung", "median"] and rnd.uses_shortlist
    assert rnd.closes_at.isoformat() == "2030-06-10T10:00:00+00:00"  # 17:00 in Asia/Ho_Chi_Minh
    assert [(c.name, c.max_points, c.weight, c.step) for c in rnd.criteria] == [
        ("Nội dung", 40, 2, 0.5),
        ("Kỹ thuật", 20, 1, 0.5),
    ]
    assert rnd.criteria[0].levels[0] == {"points": 40.0, "label": "Xuất sắc"}
    bad = browser.post(
        f"/org/c/{panel['contest'].slug}/rounds/new",
        data=data | {"name": "Bad", "tie_breaks": "criterion:Không có"},
        follow_redirects=True,
    )
    assert session.query(Round).filter_by(name="Bad").count() == 0 and bad.status_code == 200


def test_round_form_shows_what_is_wrong_with_a_rubric_row(browser, session, panel):
    browser.login(panel["organiser"].email)
    data = {
        "name": "Sai",
        "aggregation": "mean",
        "assignment_mode": "panel",
        "criteria-0-name": "Nội dung",
        "criteria-0-max_points": "mười",
        "criteria-1-name": "Kỹ thuật",
        "criteria-1-max_points": "",
        "criteria-2-name": "",
        "criteria-2-max_points": "unused rows are not checked",
    }
    page = browser.post(f"/org/c/{panel['contest'].slug}/rounds/new", data=data, follow_redirects=True)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and session.query(Round).filter_by(name="Sai").count() == 0
    for name, row in (("Nội dung", 0), ("Kỹ thuật", 1)):
        message = f"Tiêu chí “{name}”"
        assert f'id="criteria-{row}-max_points-err">{message}' in html
    assert 'id="criteria-2-max_points-err"' not in html
    assert 'value="mười"' in html  # what was typed stays in the form
