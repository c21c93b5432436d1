"""The whole journey on real parts: a unit uploads, the RQ worker transcodes with ffmpeg into S3, a judge scores,
the organiser grants awards and publishes, and the public watches the winner."""

from __future__ import annotations

import json
import re

import pytest

from app.connections import storage
from app.models import Clip, ClipStatus, Role


def upload(browser, entry_id: int, path, name: str | None = None):
    with open(path, "rb") as fh:
        return browser.post(
            f"/unit/entries/{entry_id}/clip", data={"file": (fh, name or path.name)}, content_type="multipart/form-data"
        )


@pytest.mark.slow
def test_unit_to_winners_page(app, browser, make, session, run_jobs, sample_clip):
    unit, other = make.unit("WARD1", "Phường Một"), make.unit("WARD2")
    member = make.user(Role.UNIT, unit)
    contest = make.contest("journey", title="Bình đẳng giới", min_duration_s=1, max_duration_s=60, min_height=200)
    judges = [make.user(Role.JUDGE), make.user(Role.JUDGE, other)]
    rnd = make.round(contest, judges=judges)
    organiser = make.user(Role.ORGANISER)

    # Unit: create an entry, upload, watch it get processed.
    browser.login(member.email)
    resp = browser.post(
        f"/unit/c/{contest.slug}/entries/new",
        data={"title": "Nam nữ cùng chia sẻ việc nhà", "summary": "Mô hình", "authors": "A, B", "category_id": "0"},
    )
    assert resp.status_code == 302
    entry_id = int(re.search(r"/unit/entries/(\d+)", resp.location).group(1))
    resp = upload(browser, entry_id, sample_clip, "ho so cua phuong.mp4")
    assert resp.status_code == 302
    status = browser.get(f"/unit/entries/{entry_id}/status.json").get_json()
    assert status["status"] == "queued"
    assert run_jobs() == 1
    status = browser.get(f"/unit/entries/{entry_id}/status.json").get_json()
    assert status["status"] == "ready" and status["progress"] == 1.0

    session.expire_all()
    clip = session.get(Clip, status_id(session, entry_id))
    assert clip.status == ClipStatus.READY and abs(clip.duration_s - 2) < 0.2
    assert (clip.width, clip.height) == (320, 240)
    keys = set(storage().keys(f"derived/{clip.id}/"))
    assert {r["key"] for r in clip.renditions} <= keys and clip.poster_key in keys
    assert storage().exists(clip.original_key)

    # Playback with a byte range, as browsers seek.
    page = browser.get(f"/unit/entries/{entry_id}").get_data(as_text=True)
    assert f"/media/clips/{clip.id}/play.mp4" in page
    resp = browser.get(f"/media/clips/{clip.id}/play.mp4", headers={"Range": "bytes=0-99"})
    assert resp.status_code == 206 and len(resp.data) == 100 and resp.data[4:8] == b"ftyp"
    assert resp.headers["Content-Range"].startswith("bytes 0-99/")
    assert browser.post(f"/unit/entries/{entry_id}/submit").status_code == 302
    browser.client.post("/logout", data={"csrf_token": browser.token("/")})

    # Judge: dashboard progress, draft, submit.
    browser.login(judges[0].email)
    dash = browser.get("/judge/").get_data(as_text=True)
    assert "0 / 1" in dash
    content, technique = rnd.criteria
    url = f"/judge/rounds/{rnd.id}/entries/{entry_id}"
    assert browser.post(url, data={f"c{content.id}": "8", "action": "draft"}).status_code == 302
    resp = browser.post(url, data={f"c{content.id}": "8", "action": "submit"}, follow_redirects=True)
    assert "Score every criterion" in resp.get_data(as_text=True) or "Chấm đủ" in resp.get_data(as_text=True)
    resp = browser.post(
        url, data={f"c{content.id}": "11", f"c{technique.id}": "5", "action": "submit"}, follow_redirects=True
    )
    assert resp.status_code == 200  # out of bounds: re-shown with an error, nothing saved
    assert (
        browser.post(url, data={f"c{content.id}": "8.5", f"c{technique.id}": "7", "action": "submit"}).status_code
        == 302
    )
    assert "1 / 1" in browser.get("/judge/").get_data(as_text=True)
    browser.client.post("/logout", data={"csrf_token": browser.token("/")})

    # Second judge belongs to the other unit: also scores.
    browser.login(judges[1].email)
    assert (
        browser.post(url, data={f"c{content.id}": "6", f"c{technique.id}": "4", "action": "submit"}).status_code == 302
    )
    browser.client.post("/logout", data={"csrf_token": browser.token("/")})

    # Organiser: results (mean of weighted totals: (8.5*2+7 + 6*2+4)/2 = 20), awards, publish.
    browser.login(organiser.email)
    page = browser.get(f"/org/rounds/{rnd.id}/results").get_data(as_text=True)
    assert "20,00" in page  # Vietnamese decimal comma (issue 12)
    assert browser.post(f"/org/rounds/{rnd.id}/results", data={"name": "Giải Nhất", "count": "1"}).status_code == 302
    assert browser.post(f"/org/rounds/{rnd.id}/grant-from-ranking").status_code == 302
    resp = browser.post(f"/org/rounds/{rnd.id}/publish")
    assert resp.status_code == 302 and resp.location.endswith(f"/c/{contest.slug}/winners")
    browser.client.post("/logout", data={"csrf_token": browser.token("/")})

    # Public: the winners page plays the clip; nothing else of the contest is public.
    public = app.test_client()
    page = public.get(f"/c/{contest.slug}/winners").get_data(as_text=True)
    assert "Giải Nhất" in page and "Nam nữ cùng chia sẻ việc nhà" in page and "Phường Một" in page
    resp = public.get(f"/media/clips/{clip.id}/play.mp4")
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "video/mp4"
    assert public.get(f"/media/clips/{clip.id}/poster.jpg").status_code == 200


def status_id(session, entry_id):
    from app.models import Entry

    return session.get(Entry, entry_id).clip_id


@pytest.mark.database_only
def test_results_show_cli_ranks_by_mean(app, make, session):
    from app.models import Score, ScoreSheet, SheetStatus

    unit = make.unit()
    contest = make.contest("cli-results")
    judges = [make.user(Role.JUDGE), make.user(Role.JUDGE)]
    rnd = make.round(contest, judges=judges)
    entries = [make.entry(contest, unit, title=f"E{i}") for i in range(3)]
    points = {0: [(5, 5), (6, 6)], 1: [(9, 9), (8, 8)], 2: [(5, 5), (6, 6)]}
    for i, entry in enumerate(entries):
        for judge, (a, b) in zip(judges, points[i], strict=False):
            sheet = ScoreSheet(round_id=rnd.id, entry_id=entry.id, judge_id=judge.id, status=SheetStatus.SUBMITTED)
            sheet.scores = [
                Score(criterion_id=rnd.criteria[0].id, points=a),
                Score(criterion_id=rnd.criteria[1].id, points=b),
            ]
            session.add(sheet)
    session.commit()
    out = app.test_cli_runner().invoke(args=["results", "show", "--contest", "cli-results"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert [(r["rank"], r["title"], r["score"]) for r in doc] == [(1, "E1", 25.5), (2, "E0", 16.5), (2, "E2", 16.5)]
    assert doc[1]["tied"] and doc[2]["tied"] and doc[0]["judges"] == 2
