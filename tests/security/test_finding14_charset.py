"""Finding 14: VTT and CSV responses say `charset=utf-8` exactly once."""

from __future__ import annotations

import io

from app.models import Clip, Role


def test_storyboard_vtt_has_one_charset(app, browser, make, session):
    """Finding 14: the storyboard WebVTT of a clip is served as `text/vtt; charset=utf-8`, once."""
    from app.connections import storage

    unit = make.unit()
    member = make.user(Role.UNIT, unit)
    entry = make.entry(make.contest(), unit)
    clip = session.get(Clip, entry.clip_id)
    clip.storyboard_vtt_key = f"derived/{clip.id}/storyboard.vtt"
    session.commit()
    with app.app_context():
        storage().put_stream(
            clip.storyboard_vtt_key, io.BytesIO("WEBVTT\n\nGhi chú\n".encode()), content_type="text/vtt"
        )
    browser.login(member.email)
    resp = browser.get(f"/media/clips/{clip.id}/storyboard.vtt")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/vtt; charset=utf-8"


def test_csv_exports_have_one_charset(browser, make):
    """Finding 14: every CSV export (results, scores, audit, participation) is `text/csv; charset=utf-8`, once."""
    contest = make.contest()
    rnd = make.round(contest, judges=[make.user(Role.JUDGE)])
    organiser = make.user(Role.ORGANISER)
    browser.login(organiser.email)
    for url in (
        f"/org/rounds/{rnd.id}/export.csv",
        f"/org/rounds/{rnd.id}/export.csv?what=scores",
        f"/org/rounds/{rnd.id}/export.csv?what=judging-rubric",
        f"/org/c/{contest.slug}/audit?format=csv",
        f"/org/c/{contest.slug}/participation?format=csv",
    ):
        resp = browser.get(url)
        assert resp.status_code == 200, url
        assert resp.headers["Content-Type"] == "text/csv; charset=utf-8", (url, resp.headers["Content-Type"])
