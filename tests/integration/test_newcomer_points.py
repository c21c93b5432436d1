"""Issue 12, minor points 4–6 and 8–14: what a newcomer tripped over, each checked as the page or file shows it."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from app.models import Clip, ClipStatus, Contest, Entry, EntryStatus, Role, UnitKind
from app.services import accounts

pytestmark = pytest.mark.database_only
ROOT = Path(__file__).resolve().parents[2]


def _main(html: str) -> str:
    """The page's <main> only (the header and footer repeat on every page)."""
    return html.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def _switch(browser, email: str) -> None:
    """Log out, then in as someone else."""
    browser.client.post("/logout", data={"csrf_token": browser.token("/")})
    browser.login(email)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# 4. Unit kinds through the one label table.


def test_unit_kinds_are_labelled_on_the_participation_page_and_in_its_exports(browser, make, session):
    unit = accounts.create_unit(session, code="P-BN", name="UBND phường Bến Nghé", kind=UnitKind.WARD)
    session.commit()
    contest = make.contest()
    make.entry(contest, unit)
    browser.login(make.user(Role.ORGANISER).email)
    page = browser.get(f"/org/c/{contest.slug}/participation?lang=vi").get_data(as_text=True)
    assert "<td>Phường</td>" in page and ">ward<" not in page
    page = browser.get(f"/org/c/{contest.slug}/participation?lang=en").get_data(as_text=True)
    assert "<td>Ward</td>" in page
    exported = browser.get(f"/org/c/{contest.slug}/participation?format=csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(exported.lstrip("\ufeff"))))
    row = next(r for r in rows if r[0] == "P-BN")
    assert row[2] == "Phường", row  # the export's headers are Vietnamese, and so are its words
    assert "ward" not in exported


# 5. The user's name in the header: its own element, not a muted span inside the button.


def test_header_shows_the_name_apart_from_the_logout_button(browser, make):
    member = make.user(Role.UNIT, name="Võ Thị Văn Thư (P. Bến Nghé)")
    browser.login(member.email)
    html = browser.get("/unit/").get_data(as_text=True)
    header = html.split("</header>", 1)[0]
    assert '<span class="user-name" title="Võ Thị Văn Thư (P. Bến Nghé)">Võ Thị Văn Thư (P. Bến Nghé)</span>' in header
    assert 'class="muted"' not in header  # grey on the blue header was 1.11:1
    css = (ROOT / "app/static/css/app.css").read_text()
    rule = re.search(r"header \.user-name \{([^}]*)\}", css).group(1)
    assert "white-space: nowrap" in rule and "color: var(--accent-fg)" in rule


# 6. The entry-limit rule: said on the page, checked before the form and at submission.


def test_the_limit_is_said_and_new_entry_is_not_offered_when_reached(browser, make, session):
    unit = make.unit()
    member = make.user(Role.UNIT, unit)
    contest = make.contest(max_entries_per_unit=2)
    make.entry(contest, unit, title="Submitted one")
    browser.login(member.email)
    page = browser.get("/unit/?lang=vi").get_data(as_text=True)
    assert "Đơn vị đã dùng 1/2 lượt gửi tác phẩm." in page
    assert "kể cả bản nháp chưa có clip hoặc có clip bị từ chối" in page  # the rule, in plain words
    assert f"/unit/c/{contest.slug}/entries/new" in page
    form = browser.get(f"/unit/c/{contest.slug}/entries/new?lang=vi").get_data(as_text=True)
    assert "Đây sẽ là tác phẩm thứ 2 trong số 2" in form

    # A draft without a clip takes the last place: the unit chose to begin it, and it is never refused later.
    make.entry(contest, unit, title="Empty draft", status=EntryStatus.DRAFT, clip_status=None)
    page = browser.get("/unit/?lang=vi").get_data(as_text=True)
    assert "Đơn vị đã dùng 2/2 lượt gửi tác phẩm." in page
    assert f"/unit/c/{contest.slug}/entries/new" not in page
    assert "muốn tạo tác phẩm mới, hãy rút một tác phẩm" in page

    # Checked before the form: no form to fill in vain.
    resp = browser.get(f"/unit/c/{contest.slug}/entries/new?lang=vi", follow_redirects=True)
    assert resp.request.path == "/unit/"
    assert "Đơn vị đã có 2 tác phẩm, bằng số lượng tối đa cuộc thi cho phép." in resp.get_data(as_text=True)
    # And again by the service when the form is posted anyway.
    browser.post(f"/unit/c/{contest.slug}/entries/new", data={"title": "Third", "category_id": "0"})
    session.expire_all()
    assert session.scalar(select(Entry).where(Entry.title == "Third")) is None


def test_a_rejected_clip_keeps_its_entry_counted_and_withdrawing_frees_the_place(browser, make, session):
    contest = make.contest(max_entries_per_unit=1)
    member, draft = make.member_entry(contest, status=EntryStatus.DRAFT, clip_status=ClipStatus.REJECTED)
    browser.login(member.email)
    assert f"/unit/c/{contest.slug}/entries/new" not in browser.get("/unit/").get_data(as_text=True)
    browser.post(f"/unit/entries/{draft.id}/withdraw")
    assert f"/unit/c/{contest.slug}/entries/new" in browser.get("/unit/").get_data(as_text=True)


# 8. Numbers, sizes and scores in the reader's locale; exports stay machine-readable.


def test_sizes_and_scores_follow_the_locale(browser, make, session):
    unit = make.unit()
    member = make.user(Role.UNIT, unit)
    contest = make.contest()
    judge = make.user(Role.JUDGE)
    rnd = make.round(contest, judges=[judge])
    entry = make.entry(contest, unit)
    entry.clip.size_bytes = int(55.7 * 2**20)
    session.commit()
    browser.login(member.email)
    assert "55,7 MB" in browser.get(f"/unit/entries/{entry.id}?lang=vi").get_data(as_text=True)
    assert "55.7 MB" in browser.get(f"/unit/entries/{entry.id}?lang=en").get_data(as_text=True)

    _switch(browser, judge.email)
    browser.post(
        f"/judge/rounds/{rnd.id}/entries/{entry.id}",
        data={f"c{rnd.criteria[0].id}": "8.5", f"c{rnd.criteria[1].id}": "7", "action": "submit"},
    )
    _switch(browser, make.user(Role.ORGANISER).email)
    vi = _text(_main(browser.get(f"/org/rounds/{rnd.id}/results?lang=vi").get_data(as_text=True)))
    en = _text(_main(browser.get(f"/org/rounds/{rnd.id}/results?lang=en").get_data(as_text=True)))
    assert "24,00" in vi and "24.00" not in vi
    assert "24.00" in en
    exported = browser.get(f"/org/rounds/{rnd.id}/export.csv").get_data(as_text=True)
    assert "24.0" in exported or ",24," in exported  # a number a spreadsheet reads, whatever the page's language


def test_the_number_filter_rounds_groups_and_signs(app):
    from flask_babel import force_locale

    from app.i18n import filesize, number

    with app.test_request_context(), force_locale("vi"):
        assert number(1234.5) == "1.234,5" and number(85, 2) == "85,00" and number(-0.25, 2, sign=True) == "-0,25"
        assert number(0.5, 2, sign=True) == "+0,50" and filesize(1536) == "1,5 KB" and filesize(12) == "12 B"
    with app.test_request_context(), force_locale("en"):
        assert number(1234.5) == "1,234.5" and number(85, 2) == "85.00" and filesize(1536) == "1.5 KB"


# 9. "Thể lệ" once on the public page; the demo's facts agree with its rules text.


def test_rules_heading_once_and_demo_facts_match_its_rules(client, session):
    from app.demo import RULES, seed

    seed(session)
    session.commit()
    contest = session.scalar(select(Contest).where(Contest.slug == "demo"))
    main = _main(client.get("/c/demo?lang=vi").get_data(as_text=True))
    assert _text(main).count("Thể lệ") == 1, main  # what is read; the section's aria-label is not shown
    minutes = re.search(r"từ (\d+) đến (\d+) phút", RULES)
    assert (contest.min_duration_s, contest.max_duration_s) == (int(minutes[1]) * 60, int(minutes[2]) * 60)
    assert contest.min_height == int(re.search(r"HD (\d+)p", RULES)[1])
    assert contest.max_entries_per_unit == int(re.search(r"tối đa (\d+)\*\*", RULES)[1])
    text = _text(main)
    assert "tối thiểu 2:00, tối đa 7:00" in text and "Chiều cao 720 điểm ảnh" in text


def test_a_contest_without_its_own_rules_heading_gets_ours(client, make):
    contest = make.contest(rules_md="Gửi clip trước hạn.")
    main = _main(client.get(f"/c/{contest.slug}?lang=vi").get_data(as_text=True))
    assert _text(main).count("Thể lệ") == 1 and '<h2 id="rules-h">' in main


# 10. Wording.


def test_dashboard_status_column_and_account_state_apart_from_action(browser, make):
    member, _entry = make.member_entry()
    browser.login(member.email)
    dashboard = browser.get("/unit/?lang=vi").get_data(as_text=True)
    assert '<th scope="col">Trạng thái</th>' in dashboard and '<th scope="col">Tác phẩm</th>' not in dashboard

    _switch(browser, make.user(Role.ORGANISER).email)
    page = browser.get("/org/accounts?lang=vi").get_data(as_text=True)
    assert "Đang hoạt động — khóa" not in page and "—  khóa" not in page
    assert '<td class="account-state">Đang hoạt động</td>' in page
    assert "Khóa tài khoản<span" in page


# 11. Score sheet: every error at its field; a visible label on each comment box.


def test_every_bad_score_is_reported_at_its_field(browser, make):
    contest = make.contest()
    judge = make.user(Role.JUDGE)
    rnd = make.round(contest, judges=[judge])
    entry = make.entry(contest, make.unit())
    first, second = rnd.criteria
    browser.login(judge.email)
    html = browser.post(
        f"/judge/rounds/{rnd.id}/entries/{entry.id}?lang=en",
        data={f"c{first.id}": "11", f"c{second.id}": "2.5", "action": "draft"},
    ).get_data(as_text=True)
    assert f'<p class="error" id="c{first.id}-err">Content: points must be between 0 and 10.</p>' in html
    assert f'<p class="error" id="c{second.id}-err">Technique: points must be a multiple of 1.</p>' in html
    assert html.count('aria-invalid="true"') == 2
    assert "2 scores need correcting" in html
    # Each comment box has a label one can see (not only a placeholder that vanishes once typed in).
    assert f'<label for="n{first.id}" class="note-label">Comment on Content (optional)</label>' in html
    assert "visually-hidden" not in html.split('class="sheet"', 1)[1].split("</form>", 1)[0].replace(
        '<legend class="visually-hidden">', ""
    )


# 12. A clip that breaks several rules: every rule listed, and no Submit beside it.


def test_a_rejected_clip_lists_every_broken_rule_and_offers_no_submit(browser, make, session):
    member, entry = make.member_entry(status=EntryStatus.DRAFT, clip_status=ClipStatus.REJECTED)
    clip = session.get(Clip, entry.clip_id)
    clip.reason_code, clip.reason_params = "too_short", {"duration": "0:03", "min": "2:00"}
    clip.rejections = [
        {"code": "too_short", "params": {"duration": "0:03", "min": "2:00"}},
        {"code": "resolution_too_low", "params": {"size": "426×240", "min": 720}},
    ]
    session.commit()
    browser.login(member.email)
    html = browser.get(f"/unit/entries/{entry.id}?lang=en").get_data(as_text=True)
    assert "The clip breaks 2 rules of the contest:" in html
    assert "at least 2:00" in html and "at least 720p" in html
    assert f"/unit/entries/{entry.id}/submit" not in html
    assert "This clip was not accepted, so the entry cannot be submitted with it." in html
    doc = browser.get(f"/unit/entries/{entry.id}/status.json?lang=vi").get_json()
    assert len(doc["reasons"]) == 2 and "720" in doc["reasons"][1]


def test_a_draft_without_a_clip_offers_no_submit(browser, make):
    member, entry = make.member_entry(status=EntryStatus.DRAFT, clip_status=None)
    browser.login(member.email)
    html = browser.get(f"/unit/entries/{entry.id}?lang=en").get_data(as_text=True)
    assert f"/unit/entries/{entry.id}/submit" not in html
    assert "you can submit the entry once it has arrived" in html


def test_uploader_type_error_speaks_plain_language(browser, make):
    member, entry = make.member_entry(status=EntryStatus.DRAFT, clip_status=None)
    browser.login(member.email)
    html = browser.get(f"/unit/entries/{entry.id}?lang=vi").get_data(as_text=True)
    config = json.loads(html.split('id="uploader-config">', 1)[1].split("</script>", 1)[0])
    assert "không phải là video" in config["strings"]["notVideo"]
    assert "video/*" not in json.dumps(config, ensure_ascii=False)
    assert "js/upload_rate.js" in html


# 13. Favicon and meta description.


def test_favicon_and_meta_description(client, make):
    resp = client.get("/favicon.ico")
    assert resp.status_code == 301 and resp.headers["Location"].endswith("/static/favicon.svg")
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    login = client.get("/login?lang=vi").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in login
    assert re.search(r'<meta name="description" content="Cổng thông tin cuộc thi[^"]+">', login)
    contest = make.contest(description="Cuộc thi về bình đẳng giới.")
    assert '<meta name="description" content="Cuộc thi về bình đẳng giới.">' in client.get(
        f"/c/{contest.slug}"
    ).get_data(as_text=True)


# 14. README: commands that work without an activated virtual environment.


def test_readme_flask_commands_work_without_activating_the_venv():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```\n(.*?)```", readme, flags=re.S)
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    assert any(line.startswith(".venv/bin/flask --app wsgi") for line in lines)
    assert not [line for line in lines if re.match(r"(flask|python) ", line)]
    assert ". .venv/bin/activate" in readme


def test_a_document_sent_without_javascript_is_refused_in_plain_words(browser, make):
    """Issue 12: the plain upload form (no JavaScript) says "not a video" without MIME types or extension lists."""
    member, entry = make.member_entry(status=EntryStatus.DRAFT, clip_status=None)
    browser.login(member.email)
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    for name, kind in (("Báo cáo.docx", docx), ("Báo cáo.mp4", docx)):
        html = browser.post(
            f"/unit/entries/{entry.id}/clip?lang=vi",
            data={"file": (io.BytesIO(b"PK\x03\x04 not a video"), name, kind)},
            content_type="multipart/form-data",
            follow_redirects=True,
        ).get_data(as_text=True)
        flash = html.split('class="flash error">', 1)[1].split("</p>", 1)[0]
        assert flash.startswith(
            "Tệp này không phải là video. Hãy chọn một tệp video: tốt nhất là MP4; cũng chấp nhận MOV, AVI, MKV và "
            "WebM."
        )
        assert ".3gp" not in flash and "video/*" not in flash
