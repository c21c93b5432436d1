"""Spreading a contest (issue 13, part A): share link and QR, the embeddable card, link previews, banner, news with
its Atom feed, materials, the public gallery, and who may change them. Real S3 (rclone), real zbarimg."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from datetime import timedelta
from urllib.parse import unquote
from xml.etree import ElementTree

import pytest
from flask_login import AnonymousUserMixin
from openpyxl import Workbook
from PIL import Image
from sqlalchemy import func, select

from app.connections import storage
from app.models import (
    AuditEvent,
    ClipStatus,
    EntryStatus,
    Material,
    NewsPost,
    NewsStatus,
    Publication,
    Role,
    utcnow,
)
from app.outreach.documents import MATERIAL_MAX_BYTES
from app.permissions import can_view_clip
from app.services import PermissionDenied, PortalError, materials, news

PUBLIC_URL = "https://cuocthi.example.gov.vn"
TITLE = "Cuộc thi video «Cải cách hành chính – Chuyển đổi số» năm 2027"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def contest(app, make):
    app.config["PUBLIC_URL"] = PUBLIC_URL
    return make.contest(
        "cchc-2027",
        title=TITLE,
        description="Thi làm video clip ngắn về cải cách hành chính.",
        closes_at=utcnow() + timedelta(days=30),
    )


@pytest.fixture
def organiser(make):
    return make.user(Role.ORGANISER)


def _csp(resp) -> str:
    return resp.headers.get("Content-Security-Policy", "")


def _meta(html: str, prop: str) -> str | None:
    match = re.search(rf'<meta (?:property|name)="{re.escape(prop)}" content="([^"]*)"', html)
    return match.group(1) if match else None


def _local(url: str) -> str:
    assert url.startswith(PUBLIC_URL + "/"), url
    return url[len(PUBLIC_URL) :].replace("&amp;", "&")


def _docx_bytes() -> bytes:
    """The smallest Office Open XML word-processing package that Word opens."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="xml" ContentType="application/xml"/></Types>',
        )
        z.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def _xlsx_bytes() -> bytes:
    book = Workbook()
    book.active["A1"] = "Mẫu đăng ký"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _disposition_name(header: str) -> str:
    """The file name a browser saves under: RFC 5987 filename* first, else filename."""
    star = re.search(r"filename\*=UTF-8''([^;\s]+)", header)
    if star:
        return unquote(star.group(1), encoding="utf-8", errors="strict")
    plain = re.search(r'filename="((?:[^"\\]|\\.)*)"|filename=([^;\s]+)', header)
    assert plain, header
    return plain.group(1) if plain.group(1) is not None else plain.group(2)


# --- share link, QR, embed ---------------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("zbarimg") is None, reason="zbarimg (zbar-tools) is installed by make setup")
def test_share_qr_decodes_to_the_contest_url(client, contest, tmp_path):
    resp = client.get(f"/c/{contest.slug}/qr.png")
    assert resp.status_code == 200 and resp.mimetype == "image/png"
    png = tmp_path / "qr.png"
    png.write_bytes(resp.data)
    decoded = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(png)], capture_output=True, text=True, timeout=60, check=True
    ).stdout.strip()
    assert decoded == f"{PUBLIC_URL}/c/{contest.slug}"

    svg = client.get(f"/c/{contest.slug}/qr.svg?download=1")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    assert _disposition_name(svg.headers["Content-Disposition"]) == f"qr-{contest.slug}.svg"
    assert svg.headers["Content-Disposition"].startswith("attachment")


def test_share_panel_on_public_and_organiser_pages(browser, contest, organiser):
    page = browser.get(f"/c/{contest.slug}").get_data(as_text=True)
    assert f'value="{PUBLIC_URL}/c/{contest.slug}"' in page
    assert "data-copy=" in page and "/static/js/share.js" in page
    assert f"/c/{contest.slug}/qr.svg" in page and f"/c/{contest.slug}/qr.png" in page
    # The snippet is shown as text (escaped inside a textarea) and points at the embed page under PUBLIC_URL.
    assert f"&lt;iframe src=&#34;{PUBLIC_URL}/c/{contest.slug}/embed&#34;" in page

    browser.login(organiser.email)
    org_page = browser.get(f"/org/c/{contest.slug}").get_data(as_text=True)
    assert f'value="{PUBLIC_URL}/c/{contest.slug}"' in org_page and "qr.png" in org_page


def test_without_public_url_there_is_no_qr_and_the_panel_says_why(app, client, contest):
    app.config["PUBLIC_URL"] = None
    assert client.get(f"/c/{contest.slug}/qr.png").status_code == 404
    page = client.get(f"/c/{contest.slug}").get_data(as_text=True)
    assert "PUBLIC_URL" in page and "qr.png" not in page


def test_only_the_embed_page_may_be_framed(client, contest):
    embed = client.get(f"/c/{contest.slug}/embed")
    assert embed.status_code == 200
    assert "frame-ancestors *" in _csp(embed) and "X-Frame-Options" not in embed.headers
    html = embed.get_data(as_text=True)
    assert TITLE in html and "Tham gia" in html and 'class="countdown"' in html
    assert f'href="{PUBLIC_URL}/c/{contest.slug}"' in html and '<base target="_blank">' in html
    for path in (
        f"/c/{contest.slug}",
        f"/c/{contest.slug}/news",
        f"/c/{contest.slug}/qr.svg",
        f"/c/{contest.slug}/card.png",
        "/login",
    ):
        resp = client.get(path)
        assert resp.status_code == 200, path
        assert "frame-ancestors 'none'" in _csp(resp), path


# --- link previews and the banner --------------------------------------------------------------------------------


def test_og_meta_present_and_the_generated_card_is_fetchable(client, contest):
    html = client.get(f"/c/{contest.slug}").get_data(as_text=True)
    assert _meta(html, "og:title") == TITLE
    assert _meta(html, "og:url") == f"{PUBLIC_URL}/c/{contest.slug}"
    assert _meta(html, "og:description") == "Thi làm video clip ngắn về cải cách hành chính."
    assert _meta(html, "twitter:card") == "summary_large_image"
    image_url = _meta(html, "og:image")
    assert image_url and _meta(html, "twitter:image") == image_url
    resp = client.get(_local(image_url))
    assert resp.status_code == 200 and resp.mimetype == "image/png"
    with Image.open(io.BytesIO(resp.data)) as card:
        assert card.size == (1200, 630)
    assert (_meta(html, "og:image:width"), _meta(html, "og:image:height")) == ("1200", "630")


def test_banner_upload_is_shown_and_becomes_og_image(browser, contest, organiser, session):
    browser.login(organiser.email)
    picture = Image.new("RGB", (1400, 700), "#c0392b")
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"
    raw = io.BytesIO()
    picture.save(raw, format="PNG", exif=exif)
    resp = browser.post(
        f"/org/c/{contest.slug}/banner",
        data={"banner": (io.BytesIO(raw.getvalue()), "banner.png")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    session.refresh(contest)
    assert contest.banner_key and storage().exists(contest.banner_key)

    html = browser.get(f"/c/{contest.slug}").get_data(as_text=True)
    assert f'src="/c/{contest.slug}/banner.jpg"' in html
    image_url = _meta(html, "og:image")
    assert "/banner.jpg" in image_url
    fetched = browser.get(_local(image_url))
    assert fetched.status_code == 200 and fetched.mimetype == "image/jpeg"
    with Image.open(io.BytesIO(fetched.data)) as stored:
        assert stored.format == "JPEG" and stored.size == (1400, 700)
        assert not stored.getexif()  # metadata is not republished

    # A new banner replaces the old object; a file that is not an image is refused.
    old_key = contest.banner_key
    browser.post(
        f"/org/c/{contest.slug}/banner",
        data={"banner": (io.BytesIO(raw.getvalue()), "again.png")},
        content_type="multipart/form-data",
    )
    session.refresh(contest)
    assert contest.banner_key != old_key and not storage().exists(old_key)
    refused = browser.post(
        f"/org/c/{contest.slug}/banner",
        data={"banner": (io.BytesIO(b"MZ\x90\x00 not an image"), "evil.png")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 302
    session.refresh(contest)
    assert contest.banner_key and storage().exists(contest.banner_key)

    browser.post(f"/org/c/{contest.slug}/banner/delete")
    session.refresh(contest)
    assert contest.banner_key is None
    assert "/card.png" in _meta(browser.get(f"/c/{contest.slug}").get_data(as_text=True), "og:image")


# --- news --------------------------------------------------------------------------------------------------------


def test_a_draft_post_is_invisible_to_the_public_until_published(browser, client, contest, organiser, session):
    browser.login(organiser.email)
    resp = browser.post(
        f"/org/c/{contest.slug}/news/new",
        data={"title": "Gia hạn nộp bài dự thi", "body_md": "Hạn mới: **31/3**.\n\n<script>alert(1)</script>"},
    )
    assert resp.status_code == 302
    post = session.scalars(select(NewsPost)).one()
    assert post.status == NewsStatus.DRAFT and post.published_at is None

    public = client.application.test_client()
    assert public.get(f"/c/{contest.slug}/news/{post.id}").status_code == 404
    assert "Gia hạn" not in public.get(f"/c/{contest.slug}/news").get_data(as_text=True)
    assert "Gia hạn" not in public.get(f"/c/{contest.slug}").get_data(as_text=True)
    assert "Gia hạn" not in public.get(f"/c/{contest.slug}/news.atom").get_data(as_text=True)

    resp = browser.post(
        f"/org/news/{post.id}/edit",
        data={"title": "Gia hạn nộp bài dự thi", "body_md": post.body_md, "publish": "y"},
    )
    assert resp.status_code == 302
    page = public.get(f"/c/{contest.slug}/news/{post.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "<strong>31/3</strong>" in text and "<script>alert" not in text
    assert _meta(text, "og:title") == "Gia hạn nộp bài dự thi"
    assert "Gia hạn nộp bài dự thi" in public.get(f"/c/{contest.slug}").get_data(as_text=True)
    actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.contest_id == contest.id)))
    assert {"news.create", "news.update"} <= actions


def test_news_list_newest_first_and_atom_feed(client, contest, organiser, session):
    older = news.create_post(session, actor=organiser, contest=contest, title="Phát động cuộc thi", body_md="A")
    older.published_at = utcnow() - timedelta(days=3)
    news.create_post(session, actor=organiser, contest=contest, title="Nháp <chưa đăng>", body_md="B")
    news.create_post(
        session, actor=organiser, contest=contest, title="Sơ kết & hướng dẫn", body_md="x < y & **z**", publish=True
    )
    news.update_post(session, actor=organiser, post=older, title=older.title, body_md="A", publish=True)
    session.commit()

    html = client.get(f"/c/{contest.slug}/news").get_data(as_text=True)
    assert html.index("Sơ kết &amp; hướng dẫn") < html.index("Phát động cuộc thi") and "Nháp" not in html

    feed = client.get(f"/c/{contest.slug}/news.atom")
    assert feed.status_code == 200 and feed.mimetype == "application/atom+xml"
    ns = {"a": "http://www.w3.org/2005/Atom"}
    root = ElementTree.fromstring(feed.data)
    entries = root.findall("a:entry", ns)
    assert [e.findtext("a:title", namespaces=ns) for e in entries] == ["Sơ kết & hướng dẫn", "Phát động cuộc thi"]
    assert entries[0].find("a:content", ns).text == "<p>x &lt; y &amp; <strong>z</strong></p>"
    link = entries[0].find("a:link", ns).get("href")
    assert link.startswith(f"{PUBLIC_URL}/c/{contest.slug}/news/")
    assert client.get(_local(link)).status_code == 200
    assert root.findtext("a:id", namespaces=ns).startswith("urn:uuid:")


# --- materials ---------------------------------------------------------------------------------------------------


def test_materials_download_with_the_original_name_and_type(browser, client, contest, organiser, session):
    browser.login(organiser.email)
    files = [
        ("Thể lệ cuộc thi – Đợt 1.docx", _docx_bytes(), "application/vnd.openxmlformats-officedocument"),
        ("Mẫu đăng ký dự thi.xlsx", _xlsx_bytes(), XLSX),
        ("Hướng dẫn.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "application/pdf"),
    ]
    for name, body, _mime in files:
        resp = browser.post(
            f"/org/c/{contest.slug}/materials",
            data={"title": "", "file": (io.BytesIO(body), name)},
            content_type="multipart/form-data",
        )
        assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    stored = session.scalars(select(Material).order_by(Material.id)).all()
    assert [m.filename for m in stored] == [f[0] for f in files]

    page = client.get(f"/c/{contest.slug}").get_data(as_text=True)
    assert "Thể lệ cuộc thi – Đợt 1" in page and "— Word (DOCX), " in page
    assert "— Excel (XLSX), " in page and "— PDF, " in page
    for material, (name, body, mime) in zip(stored, files, strict=True):
        resp = client.get(f"/c/{contest.slug}/materials/{material.id}")
        assert resp.status_code == 200
        assert resp.mimetype.startswith(mime)
        assert resp.data == body and resp.headers["Content-Length"] == str(len(body))
        header = resp.headers["Content-Disposition"]
        assert header.startswith("attachment;") and "filename*=UTF-8''" in header
        assert _disposition_name(header) == name
        assert header.encode("latin-1")  # the fallback name is plain ASCII
    fallback = client.get(f"/c/{contest.slug}/materials/{stored[0].id}").headers["Content-Disposition"]
    assert 'filename="The le cuoc thi  Dot 1.docx"' in fallback  # Đ becomes D, the dash has no ASCII form
    other = session.get(Material, stored[0].id)
    assert client.get(f"/c/other-contest/materials/{other.id}").status_code == 404


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("virus.pdf", b"MZ\x90\x00\x03 executable renamed"),
        ("old-word.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 binary doc"),
        ("fake.docx", _xlsx_bytes()),  # a workbook named as a document
        ("archive.zip", _docx_bytes()),
        ("empty.pdf", b""),
    ],
)
def test_materials_refuse_other_types(session, contest, organiser, name, body):
    with pytest.raises(PortalError):
        materials.add_material(
            session, storage(), actor=organiser, contest=contest, stream=io.BytesIO(body), filename=name
        )
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Material)) == 0
    assert not storage().keys("materials/")


def test_materials_over_50_mb_are_refused_before_storing(session, contest, organiser, tmp_path):
    big = tmp_path / "big.pdf"
    with open(big, "wb") as fh:
        fh.write(b"%PDF-1.7\n")
        fh.truncate(MATERIAL_MAX_BYTES + 1)  # sparse: nothing is written to disk
    with open(big, "rb") as fh, pytest.raises(PortalError):
        materials.add_material(session, storage(), actor=organiser, contest=contest, stream=fh, filename="big.pdf")
    assert not storage().keys("materials/")


def test_removing_a_material_deletes_its_object(browser, session, contest, organiser):
    material = materials.add_material(
        session, storage(), actor=organiser, contest=contest, stream=io.BytesIO(_docx_bytes()), filename="a.docx"
    )
    session.commit()
    key = material.object_key
    browser.login(organiser.email)
    assert browser.post(f"/org/materials/{material.id}/delete").status_code == 302
    assert session.scalar(select(func.count()).select_from(Material)) == 0 and not storage().exists(key)


# --- permissions -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.UNIT, Role.JUDGE])
def test_only_organisers_create_news_and_materials(browser, make, session, contest, role):
    user = make.user(role)
    browser.login(user.email)
    attempts = [
        browser.post(f"/org/c/{contest.slug}/news/new", data={"title": "Tin giả", "body_md": "x", "publish": "y"}),
        browser.post(
            f"/org/c/{contest.slug}/materials",
            data={"file": (io.BytesIO(_docx_bytes()), "x.docx")},
            content_type="multipart/form-data",
        ),
        browser.post(
            f"/org/c/{contest.slug}/banner",
            data={"banner": (io.BytesIO(b"x"), "b.png")},
            content_type="multipart/form-data",
        ),
        browser.post(f"/org/c/{contest.slug}/gallery", data={"public": "y"}),
        browser.get(f"/org/c/{contest.slug}/news"),
    ]
    assert [r.status_code for r in attempts] == [403] * len(attempts)
    assert session.scalar(select(func.count()).select_from(NewsPost)) == 0
    assert session.scalar(select(func.count()).select_from(Material)) == 0
    with pytest.raises(PermissionDenied):
        news.create_post(session, actor=user, contest=contest, title="Tin", body_md="x", publish=True)
    with pytest.raises(PermissionDenied):
        materials.add_material(
            session, storage(), actor=user, contest=contest, stream=io.BytesIO(_docx_bytes()), filename="x.docx"
        )


def test_anonymous_visitors_are_sent_to_login(client, contest):
    for path in (
        f"/org/c/{contest.slug}/news/new",
        f"/org/c/{contest.slug}/materials",
        f"/org/c/{contest.slug}/showcase",
    ):
        resp = client.get(path)
        assert resp.status_code == 302 and "/login" in resp.location


# --- public gallery ----------------------------------------------------------------------------------------------


def _publish(session, contest, winner) -> None:
    snapshot = {"title": contest.title, "awards": [{"name": "Giải Nhất", "kind": "group", "winners": [
        {"entry_id": winner.id, "title": winner.title, "unit": winner.unit.name, "clip_id": winner.clip_id}
    ]}], "ranking": []}  # fmt: skip
    session.add(Publication(contest_id=contest.id, snapshot=snapshot))
    contest.published_at = utcnow()
    session.commit()


def test_gallery_is_off_by_default_and_shows_every_ready_entry_after_publication(browser, make, session, contest):
    unit_a, unit_b = make.unit("PA", "Phường An Cựu"), make.unit("PB", "Phường Vỹ Dạ")
    winner = make.entry(contest, unit_a, title="Một cửa liên thông")
    other = make.entry(contest, unit_b, title="Dịch vụ công trực tuyến")
    withdrawn = make.entry(contest, unit_b, title="Rút lui", status=EntryStatus.WITHDRAWN)
    processing = make.entry(contest, unit_a, title="Đang xử lý", clip_status=ClipStatus.PROCESSING)
    organiser = make.user(Role.ORGANISER)
    anonymous = AnonymousUserMixin()
    _publish(session, contest, winner)

    assert browser.get(f"/c/{contest.slug}/gallery").status_code == 404
    assert can_view_clip(session, anonymous, winner.clip) and not can_view_clip(session, anonymous, other.clip)

    browser.login(organiser.email)
    assert browser.post(f"/org/c/{contest.slug}/gallery", data={"public": "y"}).status_code == 302
    session.refresh(contest)
    assert contest.gallery_public
    public = browser.client.application.test_client()
    page = public.get(f"/c/{contest.slug}/gallery")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Một cửa liên thông" in html and "Dịch vụ công trực tuyến" in html
    assert "Rút lui" not in html and "Đang xử lý" not in html
    assert f"/media/clips/{other.clip_id}/play.mp4" in html
    assert can_view_clip(session, anonymous, other.clip)
    assert not can_view_clip(session, anonymous, withdrawn.clip)
    assert not can_view_clip(session, anonymous, processing.clip)
    assert f"/c/{contest.slug}/gallery" in public.get(f"/c/{contest.slug}/winners").get_data(as_text=True)


def test_gallery_switched_on_before_publication_stays_closed(browser, make, session, contest):
    entry = make.entry(contest, make.unit())
    organiser = make.user(Role.ORGANISER)
    browser.login(organiser.email)
    browser.post(f"/org/c/{contest.slug}/gallery", data={"public": "y"})
    assert browser.get(f"/c/{contest.slug}/gallery").status_code == 404
    assert not can_view_clip(session, AnonymousUserMixin(), entry.clip)
