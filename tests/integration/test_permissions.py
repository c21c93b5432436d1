"""Who may see what: units, judges, organisers, the public; and CSRF on every form."""

from __future__ import annotations

import pytest

from app.models import EntryStatus, Role, RoundStatus

pytestmark = pytest.mark.database_only


@pytest.fixture
def world(make):
    """Two units with one entry each, a judge of unit A, a neutral judge, an organiser, an open round."""
    unit_a, unit_b = make.unit("UA"), make.unit("UB")
    contest = make.contest("perm")
    members = {"a": make.user(Role.UNIT, unit_a), "b": make.user(Role.UNIT, unit_b)}
    entry_a = make.entry(contest, unit_a, title="Entry of A")
    entry_b = make.entry(contest, unit_b, title="Entry of B")
    draft_b = make.entry(contest, unit_b, title="Draft of B", status=EntryStatus.DRAFT)
    judge_a = make.user(Role.JUDGE, unit_a)
    judge = make.user(Role.JUDGE)
    outsider_judge = make.user(Role.JUDGE)
    rnd = make.round(contest, judges=[judge_a, judge])
    organiser = make.user(Role.ORGANISER)
    return dict(
        contest=contest,
        members=members,
        entry_a=entry_a,
        entry_b=entry_b,
        draft_b=draft_b,
        judge_a=judge_a,
        judge=judge,
        outsider=outsider_judge,
        rnd=rnd,
        organiser=organiser,
    )


def test_unit_member_cannot_read_or_change_another_units_entry(browser, world):
    browser.login(world["members"]["a"].email)
    assert browser.get(f"/unit/entries/{world['entry_a'].id}").status_code == 200
    for entry in (world["entry_b"], world["draft_b"]):
        assert browser.get(f"/unit/entries/{entry.id}").status_code == 404
        assert browser.get(f"/unit/entries/{entry.id}/edit").status_code == 404
        assert browser.get(f"/unit/entries/{entry.id}/status.json").status_code == 404
        assert browser.post(f"/unit/entries/{entry.id}/submit").status_code == 404
        assert browser.post(f"/unit/entries/{entry.id}/withdraw").status_code == 404
    dashboard = browser.get("/unit/").get_data(as_text=True)
    assert "Entry of A" in dashboard and "Entry of B" not in dashboard and "Draft of B" not in dashboard


def test_judge_sees_only_assigned_entries_never_own_unit(browser, world):
    rnd = world["rnd"]
    browser.login(world["judge_a"].email)
    assert browser.get(f"/judge/rounds/{rnd.id}/entries/{world['entry_b'].id}").status_code == 200
    assert browser.get(f"/judge/rounds/{rnd.id}/entries/{world['entry_a'].id}").status_code == 404  # own unit
    assert browser.get(f"/judge/rounds/{rnd.id}/entries/{world['draft_b'].id}").status_code == 404  # not submitted
    page = browser.get("/judge/").get_data(as_text=True)
    assert "Entry of B" in page and "Entry of A" not in page
    resp = browser.post(f"/judge/rounds/{rnd.id}/entries/{world['entry_a'].id}", data={"action": "submit"})
    assert resp.status_code == 404


def test_judge_not_on_panel_sees_nothing(browser, world):
    browser.login(world["outsider"].email)
    for entry in (world["entry_a"], world["entry_b"]):
        assert browser.get(f"/judge/rounds/{world['rnd'].id}/entries/{entry.id}").status_code == 404
    assert "Entry of" not in browser.get("/judge/").get_data(as_text=True)


def test_draft_round_hidden_from_judges(browser, world, session):
    world["rnd"].status = RoundStatus.DRAFT
    session.commit()
    browser.login(world["judge"].email)
    assert browser.get(f"/judge/rounds/{world['rnd'].id}/entries/{world['entry_b'].id}").status_code == 404


@pytest.mark.parametrize("who,allowed", [("member", "/unit/"), ("judge", "/judge/"), ("organiser", "/org/")])
def test_role_areas(browser, world, who, allowed):
    user = {"member": world["members"]["a"], "judge": world["judge"], "organiser": world["organiser"]}[who]
    browser.login(user.email)
    for area in ("/unit/", "/judge/", "/org/", "/org/units", "/org/accounts"):
        expected = 200 if area.startswith(allowed) else 403
        assert browser.get(area).status_code == expected, (who, area)


def test_anonymous_is_sent_to_login(client, world):
    for area in ("/unit/", "/judge/", "/org/", f"/unit/entries/{world['entry_a'].id}"):
        resp = client.get(area)
        assert resp.status_code == 302 and "/login" in resp.location


def test_media_of_unpublished_entry_is_not_public(client, browser, world, session):
    clip = world["entry_a"].clip
    clip.renditions = [{"name": "360p", "key": "derived/x/360p.mp4", "width": 480, "height": 360}]
    session.commit()
    assert client.get(f"/media/clips/{clip.id}/360p.mp4").status_code == 404
    browser.login(world["members"]["b"].email)
    assert browser.get(f"/media/clips/{clip.id}/360p.mp4").status_code == 404
    assert browser.get(f"/media/clips/{clip.id}/play.mp4").status_code == 404


def test_every_form_rejects_a_missing_csrf_token(app, browser, world):
    """Every POST endpoint answers 400 without a token, for a logged-in user of each role."""
    ids = {
        "entry_id": world["entry_b"].id,
        "round_id": world["rnd"].id,
        "user_id": world["judge"].id,
        "clip_id": world["entry_b"].clip_id,
        "slug": world["contest"].slug,
        "code": "en",
    }
    posts = [r for r in app.url_map.iter_rules() if "POST" in r.methods]
    assert len(posts) >= 15
    for user in (world["members"]["b"], world["judge"], world["organiser"]):
        browser.login(user.email)
        for rule in posts:
            url = rule.build({k: ids.get(k, 1) for k in rule.arguments}, append_unknown=False)[1]
            resp = browser.client.post(url, data={"title": "x", "action": "submit"})
            assert resp.status_code == 400, (user.role, url, resp.status_code)
            assert "security token" in resp.get_data(as_text=True) or "mã bảo mật" in resp.get_data(as_text=True)
        browser.client.post("/logout", data={"csrf_token": browser.token("/")})


def test_login_rejects_wrong_password_and_open_redirect(browser, world):
    client = browser.client
    resp = client.post(
        "/login", data={"email": world["judge"].email, "password": "wrong-pass", "csrf_token": browser.token()}
    )
    assert resp.status_code == 200
    resp = client.post(
        "/login?next=//evil.example/x",
        data={"email": world["judge"].email, "password": "secret-pass-1", "csrf_token": browser.token()},
    )
    assert resp.status_code == 302 and resp.location == "/judge/"


def test_disabled_account_cannot_log_in(browser, world, session):
    world["judge"].active = False
    session.commit()
    resp = browser.client.post(
        "/login", data={"email": world["judge"].email, "password": "secret-pass-1", "csrf_token": browser.token()}
    )
    assert resp.status_code == 200 and browser.get("/judge/").status_code == 302
