"""Certificates and minutes from the published snapshot: exact Vietnamese text in the PDFs (pdftotext), QR codes that
decode (pdftoppm + zbarimg) to the verification page, PUBLIC_URL rules, permissions, and the ZIP job."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from app.models import AuditEvent, AwardKind, Certificate, Role, Score, ScoreSheet, SheetStatus
from app.services import contests, results
from app.services.entries import clean_authors

pytestmark = pytest.mark.database_only  # but for the ZIP job test, which asks for `services`

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = "https://cuocthi.hue.gov.vn"
TITLE = "Tìm kiếm sáng kiến, mô hình, giải pháp truyền thông hiệu quả về bình đẳng giới"
# Decomposed on purpose (NFD, as some keyboards and pasted text deliver it): the paper must print composed text.
AUTHORS_NFD = "Nguyễn Thị Hồng Nhung\nTrần Văn Đức".replace("ễ", "e\u0302\u0303").replace("ồ", "o\u0302\u0300")


def pdf_text(path: Path) -> str:
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True)
    return " ".join(out.stdout.split())


def pdf_qr(path: Path, tmp: Path) -> str:
    """Render page 1 to PNG and decode its QR code."""
    prefix = tmp / path.stem
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", str(path), str(prefix)], check=True)
    (png,) = sorted(tmp.glob(f"{path.stem}*.png"))
    out = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def pdf_fonts(path: Path) -> str:
    return subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def published(app, session, make):
    """A contest judged by 3 judges, with a group prize and an individual prize (two authors), published."""
    app.config["PUBLIC_URL"] = PUBLIC
    hue = make.unit("P-PHUHOI", "UBND phường Phú Hội")
    hlhpn = make.unit("HLHPN-HUE", "Hội Liên hiệp Phụ nữ thành phố Huế")
    other = make.unit("X-HUONGTHO", "UBND xã Hương Thọ")
    contest = make.contest("hue-2027", title=TITLE)
    contests.update_contest(
        session,
        contest=contest,
        paper_place="Huế",
        paper_date=date(2027, 1, 15),
        signer_title="TRƯỞNG BAN TỔ CHỨC",
        signer_name="Lê Thị Thu Hà",
        panel_head_name="Phan Văn Hải",
    )
    e1 = make.entry(contest, hue, title="Bố mẹ cùng làm việc nhà")
    e2 = make.entry(contest, hlhpn, title="Phụ nữ khởi nghiệp số")
    e3 = make.entry(contest, other, title="Làng quê bình đẳng")
    e2.authors = clean_authors(AUTHORS_NFD)
    session.commit()
    judges = [
        make.user(Role.JUDGE, name="Trần Văn Giám"),
        make.user(Role.JUDGE, name="Lê Thị Khảo"),
        make.user(Role.JUDGE, name="Hồ Minh Chấm"),
    ]
    rnd = make.round(contest, judges=judges, name="Chung khảo", tie_breaks=["criterion:Content", "first_places"])
    for judge, offset in zip(judges, (0, 1, 0.5), strict=True):
        for entry, base in ((e1, 9), (e2, 8), (e3, 6)):
            sheet = ScoreSheet(round_id=rnd.id, entry_id=entry.id, judge_id=judge.id, status=SheetStatus.SUBMITTED)
            sheet.scores = [Score(criterion_id=c.id, points=base - offset) for c in rnd.criteria]
            session.add(sheet)
    session.commit()
    organiser = make.user(Role.ORGANISER, email="btc@hue.gov.vn")
    first = results.create_award(session, actor=organiser, contest=contest, name="Giải Nhất", count=1)
    second = results.create_award(
        session, actor=organiser, contest=contest, name="Giải Nhì (cá nhân)", count=1, kind=AwardKind.INDIVIDUAL
    )
    results.grant_award(session, actor=organiser, entry=e1, award=first)
    results.grant_award(session, actor=organiser, entry=e2, award=second)
    results.publish(session, actor=organiser, contest=contest, rnd=rnd)
    session.commit()
    return contest


def _invoke(app, *args: str):
    out = app.test_cli_runner().invoke(args=list(args))
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def test_certificates_cli_pdf_text_qr_and_verification_page(app, client, published, tmp_path):
    listed = _invoke(app, "awards", "certificates", "--contest", "hue-2027", "--out", str(tmp_path / "certs"))
    assert [(c["award"], c["recipient"]) for c in listed] == [
        ("Giải Nhất", "UBND phường Phú Hội"),
        ("Giải Nhì (cá nhân)", "Nguyễn Thị Hồng Nhung"),
        ("Giải Nhì (cá nhân)", "Trần Văn Đức"),
    ]
    for cert in listed:
        path = Path(cert["file"])
        assert path.is_absolute() and path.exists()
        text = pdf_text(path)
        for expected in (cert["recipient"], cert["award"], TITLE, "Huế, ngày 15 tháng 01 năm 2027"):
            assert expected in text, (expected, text)
        assert "TRƯỞNG BAN TỔ CHỨC" in text and "Lê Thị Thu Hà" in text
        assert "GIẤY CHỨNG NHẬN" in text
        fonts = pdf_fonts(path)
        # "Paper Serif" exists only through @font-face (the Debian DejaVu file): embedded as a subset.
        assert "Paper-Serif" in fonts and " yes yes " in fonts
        url = pdf_qr(path, tmp_path)
        assert url == cert["verify_url"]
        assert url.startswith(PUBLIC + "/verify/")
        page = client.get(urlsplit(url).path)
        assert page.status_code == 200
        assert cert["recipient"] in page.get_data(as_text=True)
        assert cert["award"] in page.get_data(as_text=True)
    individual = pdf_text(Path(listed[1]["file"]))
    assert "Hội Liên hiệp Phụ nữ thành phố Huế" in individual and "Phụ nữ khởi nghiệp số" in individual

    # Again: the same codes (printed QR codes stay valid), nothing new issued.
    again = _invoke(app, "awards", "certificates", "--contest", "hue-2027", "--out", str(tmp_path / "again"))
    assert [c["verify_url"] for c in again] == [c["verify_url"] for c in listed]
    from app import db

    assert db.session.query(AuditEvent).filter_by(action="certificates.issue").count() == 1


def test_verification_codes_are_unguessable_and_unknown_codes_are_404(app, client, published, session):
    _invoke(app, "awards", "certificates", "--contest", "hue-2027", "--out", "/tmp/paperwork-unused")  # noqa: S108
    codes = [c.code for c in session.query(Certificate)]
    assert len(set(codes)) == len(codes) and all(len(c) >= 22 for c in codes)
    assert client.get("/verify/" + "A" * 22).status_code == 404
    assert client.get("/verify/short").status_code == 404


def test_minutes_pdf_holds_panel_methods_ranking_awards_and_signatures(app, published, tmp_path):
    out = _invoke(app, "results", "minutes", "--contest", "hue-2027", "--out", str(tmp_path / "bien-ban.pdf"))
    text = pdf_text(Path(out["file"]))
    for expected in (
        "BIÊN BẢN TỔNG HỢP KẾT QUẢ CHẤM",
        TITLE,
        "Chung khảo",
        "Huế, ngày 15 tháng 01 năm 2027",
        "Trần Văn Giám",
        "Lê Thị Khảo",
        "Hồ Minh Chấm",
        "trung bình cộng",  # the mean, in words
        "điểm cao hơn ở tiêu chí “Content”",  # the first tie-break rule, in words
        "Bố mẹ cùng làm việc nhà",
        "UBND phường Phú Hội",
        "Giải Nhất",
        "Nguyễn Thị Hồng Nhung, Trần Văn Đức",
        "TRƯỞNG BAN GIÁM KHẢO",
        "Phan Văn Hải",
    ):
        assert expected in text, (expected, text)
    assert text.count("(Ký, ghi rõ họ tên)") == 4  # three judges and the head of the panel


def test_unpublished_contest_is_refused_clearly(app, make, tmp_path):
    app.config["PUBLIC_URL"] = PUBLIC
    make.contest("not-yet")
    for args in (
        ["awards", "certificates", "--contest", "not-yet", "--out", str(tmp_path)],
        ["results", "minutes", "--contest", "not-yet", "--out", str(tmp_path / "m.pdf")],
    ):
        out = app.test_cli_runner().invoke(args=args)
        assert out.exit_code != 0
        assert "not published" in out.output


def test_certificates_need_public_url_and_warn_on_loopback(app, published, tmp_path):
    app.config["PUBLIC_URL"] = None
    out = app.test_cli_runner().invoke(args=["awards", "certificates", "--contest", "hue-2027", "--out", str(tmp_path)])
    assert out.exit_code != 0 and "PUBLIC_URL" in out.output
    assert not list(tmp_path.iterdir())
    app.config["PUBLIC_URL"] = "http://127.0.0.1:5000"
    out = app.test_cli_runner().invoke(args=["awards", "certificates", "--contest", "hue-2027", "--out", str(tmp_path)])
    assert out.exit_code == 0, out.output
    assert "loopback" in out.stderr
    assert json.loads(out.stdout)[0]["verify_url"].startswith("http://127.0.0.1:5000/verify/")


def test_only_organisers_make_certificates_and_minutes(app, published, make, browser, client):
    unit_user = make.user(Role.UNIT, email="donvi@hue.gov.vn")
    judge = make.user(Role.JUDGE, email="gk@hue.gov.vn")
    for path in ("/org/c/hue-2027/paperwork", "/org/c/hue-2027/minutes.pdf", "/org/c/hue-2027/certificates.zip"):
        assert client.get(path).status_code == 302  # anonymous: to the login page
    for user in (unit_user, judge):
        browser.login(user.email)
        assert browser.get("/org/c/hue-2027/paperwork").status_code == 403
        assert browser.get("/org/c/hue-2027/minutes.pdf").status_code == 403
        assert browser.post("/org/c/hue-2027/certificates").status_code == 403
        browser.post("/logout")
    browser.login("btc@hue.gov.vn")
    page = browser.get("/org/c/hue-2027/paperwork")
    assert page.status_code == 200
    minutes = browser.get("/org/c/hue-2027/minutes.pdf")
    assert minutes.status_code == 200 and minutes.mimetype == "application/pdf"
    assert minutes.data.startswith(b"%PDF")


def test_organiser_downloads_one_certificate_and_the_zip_made_by_the_job(
    app, published, browser, services, session, tmp_path
):
    browser.login("btc@hue.gov.vn")
    resp = browser.post("/org/c/hue-2027/certificates")
    assert resp.status_code == 302
    certificates = list(session.query(Certificate).order_by(Certificate.position))
    assert len(certificates) == 3
    page = browser.get("/org/c/hue-2027/paperwork").get_data(as_text=True)
    assert "Nguyễn Thị Hồng Nhung" in page
    one = browser.get(f"/org/c/hue-2027/certificates/{certificates[0].id}.pdf")
    assert one.status_code == 200 and one.data.startswith(b"%PDF")
    (tmp_path / "one.pdf").write_bytes(one.data)
    assert "UBND phường Phú Hội" in pdf_text(tmp_path / "one.pdf")
    assert browser.get("/org/c/hue-2027/certificates.zip").status_code == 404  # not rendered yet
    waiting = browser.get("/org/c/hue-2027/paperwork")
    assert waiting.headers.get("Refresh") == "3"  # the page follows the job without a script
    assert "0/3" in waiting.get_data(as_text=True) or "0 of 3" in waiting.get_data(as_text=True)
    # The real worker command (a forked work-horse, as in production) renders the ZIP.
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst"],
        cwd=ROOT,
        env={**os.environ, "PUBLIC_URL": PUBLIC},
        check=True,
        timeout=600,
        capture_output=True,
    )
    archive = browser.get("/org/c/hue-2027/certificates.zip")
    assert archive.status_code == 200 and archive.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(archive.data)).namelist()
    assert len(names) == 3 and all(n.endswith(".pdf") for n in names)
    done = browser.get("/org/c/hue-2027/paperwork")
    assert "Refresh" not in done.headers
    assert "/org/c/hue-2027/certificates.zip" in done.get_data(as_text=True)


def test_authors_one_per_line_are_trimmed_and_composed():
    assert clean_authors("  Nguyễn  Văn A \n\n Lê Thị B  ") == "Nguyễn Văn A\nLê Thị B"
    assert clean_authors(AUTHORS_NFD) == "Nguyễn Thị Hồng Nhung\nTrần Văn Đức"
