"""The published demo contest `demo-published` (`flask demo seed --published`): the whole life of a contest.

Twelve entries from eight units with short generated clips (processed through the real pipeline), a final round
scored by the three demo judges, awards from the ranking, published results and issued certificates, so a newcomer
sees a winners page, certificates and minutes at once. Three steps, each committed by the command in between:
`prepare` (contest, entries, clips in the store) → the command processes the clips → `judge_and_publish`.
"""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.demo_clips import make_synthetic_clip
from app.models import AwardKind, ClipStatus, Contest, Entry, RoundStatus, SheetStatus, Unit, User, utcnow
from app.services import accounts, contests, entries, paperwork, results, rounds, scoring
from app.storage import Storage

SLUG = "demo-published"
TITLE = "Cuộc thi video clip “Gia đình bình đẳng – Xã hội văn minh” năm 2026"
CLIP_SECONDS = 6
CLIP_MAKERS = 2  # ffmpeg processes making the clips at once

RULES = """## Thể lệ cuộc thi (bản trình diễn)

Cuộc thi này đã kết thúc và công bố kết quả: đây là dữ liệu mẫu để xem trọn một vòng đời cuộc thi.

1. **Đối tượng dự thi**: các sở, ban, ngành, UBND phường, xã, hội đoàn thể và trường học trên địa bàn thành phố.
2. **Sản phẩm dự thi**: clip ngắn **từ 5 đến 10 giây**, chiều cao khung hình **tối thiểu 480 điểm ảnh (480p)**,
   định dạng MP4 (chấp nhận MOV, AVI). Bản trình diễn dùng clip ngắn để xử lý nhanh; cuộc thi thật thường nhận clip
   2–7 phút, tối thiểu HD 720p.
3. Mỗi đơn vị gửi **tối đa 2** tác phẩm, kèm tên, tóm tắt và tác giả (mỗi người một dòng).
4. **Giải thưởng**: 01 giải Nhất, 01 giải Nhì, 01 giải Ba (tập thể); 01 giải Tác giả xuất sắc (cá nhân);
   02 giải Khuyến khích.
"""

EXTRA_UNITS = [
    ("P-SAIGON", "UBND phường Sài Gòn", "ward"),
    ("SGDDT", "Sở Giáo dục và Đào tạo", "department"),
    ("THANHDOAN", "Thành đoàn Thành phố Hồ Chí Minh", "association"),
]

# (unit, title, summary, authors one per line, lavfi video source, tone Hz); listed roughly best first.
ENTRIES = [
    (
        "HLHPN",
        "Bữa cơm chiều chia đôi việc nhà",
        "Mô hình “Gia đình chia sẻ” của chi hội phụ nữ: mỗi thành viên nhận một phần việc nhà theo tuần.",
        "Hoàng Thị Hội Viên\nNguyễn Thị Mai Anh",
        "testsrc2",
        440,
    ),
    (
        "P-BENNGHE",
        "Bố đi họp phụ huynh",
        "Sáng kiến khu phố: các ông bố thay phiên đưa đón và họp phụ huynh cho con.",
        "Võ Thị Văn Thư\nTrần Quốc Bảo",
        "smptebars",
        523,
    ),
    (
        "THPT-LHP",
        "Lớp học không định kiến",
        "Câu lạc bộ học sinh dựng tiểu phẩm về nghề nghiệp không phân biệt nam nữ.",
        "Lê Minh Khang\nPhạm Ngọc Hân\nĐặng Thu Trang",
        "rgbtestsrc",
        587,
    ),
    (
        "SLDTBXH",
        "Cơ hội việc làm như nhau",
        "Phóng sự ngắn về tuyển dụng công bằng tại các doanh nghiệp trong khu chế xuất.",
        "Nguyễn Thị Bình\nLý Văn Hùng",
        "testsrc",
        698,
    ),
    (
        "X-TANNHUT",
        "Nữ tổ trưởng tổ hợp tác rau sạch",
        "Chân dung một phụ nữ dẫn dắt tổ hợp tác nông nghiệp của xã.",
        "Đỗ Văn Cán Bộ",
        "mandelbrot",
        659,
    ),
    (
        "P-SAIGON",
        "Góc tư vấn gia đình ở phường",
        "Điểm tư vấn hôn nhân và gia đình mở mỗi tối thứ Năm tại trụ sở khu phố.",
        "Huỳnh Thị Thu Cúc",
        "smptehdbars",
        784,
    ),
    (
        "SGDDT",
        "Sách giáo khoa không định kiến giới",
        "Giáo viên rà soát hình ảnh và câu chữ mang định kiến giới trong học liệu.",
        "Trương Minh Đức\nVũ Thị Lan",
        "yuvtestsrc",
        880,
    ),
    (
        "THANHDOAN",
        "Thanh niên nói không với bạo lực",
        "Chuỗi clip ngắn của đoàn viên về phòng chống bạo lực gia đình.",
        "Phan Thanh Tùng\nLâm Bảo Ngọc",
        "testsrc2",
        988,
    ),
    (
        "HLHPN",
        "Mẹ học lái máy cày",
        "Lớp học nghề cơ giới nông nghiệp dành cho phụ nữ nông thôn.",
        "Hoàng Thị Hội Viên",
        "life",
        330,
    ),
    (
        "P-BENNGHE",
        "Tiếng nói của bà",
        "Những người bà kể về thay đổi trong nếp nghĩ của gia đình ba thế hệ.",
        "Võ Thị Văn Thư",
        "cellauto",
        392,
    ),
    (
        "X-TANNHUT",
        "Ngày hội gia đình ở ấp",
        "Ngày hội thể thao và nấu ăn mà nam giới là đầu bếp chính.",
        "Đỗ Văn Cán Bộ\nTrần Thị Ngọc",
        "rgbtestsrc",
        494,
    ),
    (
        "THANHDOAN",
        "Bạn trai biết nấu ăn",
        "Cuộc thi nấu ăn dành cho nam đoàn viên.",
        "Phan Thanh Tùng",
        "smptebars",
        622,
    ),
]

AWARDS = [
    ("Giải Nhất", 1, AwardKind.GROUP),
    ("Giải Nhì", 1, AwardKind.GROUP),
    ("Giải Ba", 1, AwardKind.GROUP),
    ("Giải Tác giả xuất sắc", 1, AwardKind.INDIVIDUAL),
    ("Giải Khuyến khích", 2, AwardKind.GROUP),
]

CRITERIA = [
    {"name": "Nội dung", "description": "Thông điệp rõ ràng, đúng chủ đề.", "max_points": 40, "step": 0.5},
    {"name": "Tính sáng tạo", "description": "Cách thể hiện mới.", "max_points": 30, "step": 0.5},
    {"name": "Kỹ thuật", "description": "Hình ảnh, âm thanh, dựng phim.", "max_points": 20, "step": 0.5},
    {"name": "Khả năng nhân rộng", "description": "Áp dụng được ở nơi khác.", "max_points": 10, "step": 0.5},
]
# The one round; tied totals go to the better content score, then to more first places.
FINAL_ROUND: dict[str, Any] = {
    "name": "Chung khảo",
    "criteria": CRITERIA,
    "tie_breaks": ["criterion:Nội dung", "first_places"],
}
JUDGES = ("judge1@demo.vn", "judge2@demo.vn", "judge3@demo.vn")
ORGANISER = "organiser@demo.vn"


def make_clip(path: Path, source: str, tone_hz: int) -> Path:
    """A 6 s 854x480 H.264/AAC clip from ffmpeg's lavfi sources (nothing binary in the repository)."""
    return make_synthetic_clip(path, size="854x480", seconds=CLIP_SECONDS, source=source, tone_hz=tone_hz, timeout=300)


def _user(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        raise RuntimeError(f"demo account {email} is missing: run the base demo seed first")
    return user


def prepare(session: Session, storage: Storage) -> list[int]:
    """Create the contest, its units and entries with their clips in the store (when missing); returns the ids of
    the clips still to process."""
    contest = contests.get_contest(session, SLUG)
    if contest is None:
        now = utcnow()
        contest = contests.create_contest(
            session,
            slug=SLUG,
            title=TITLE,
            description="Bản trình diễn: cuộc thi đã chấm xong và công bố kết quả, có giấy chứng nhận và biên bản.",
            rules_md=RULES,
            opens_at=now - timedelta(days=45),
            closes_at=now - timedelta(days=15),
            min_duration_s=5,
            max_duration_s=10,
            min_height=480,
            max_entries_per_unit=2,
            categories=["Mô hình", "Sáng kiến"],
        )
        contests.update_contest(
            session,
            contest=contest,
            paper_place="Thành phố Hồ Chí Minh",
            signer_title="TRƯỞNG BAN TỔ CHỨC",
            signer_name="Nguyễn Thị Ban Tổ Chức",
            panel_head_name="Trần Văn Giám Khảo",
        )
    units = {u.code: u for u in session.scalars(select(Unit))}
    for code, name, kind in EXTRA_UNITS:
        if code not in units:
            units[code] = accounts.create_unit(session, code=code, name=name, kind=kind)
    existing = {e.title for e in session.scalars(select(Entry).where(Entry.contest_id == contest.id))}
    missing = [(n, spec) for n, spec in enumerate(ENTRIES, start=1) if spec[1] not in existing]
    with tempfile.TemporaryDirectory(prefix="demo-clips-") as tmp, ThreadPoolExecutor(CLIP_MAKERS) as pool:

        def clip_of(item: tuple[int, tuple]) -> Path:
            n, (*_text, source, tone) = item
            return make_clip(Path(tmp) / f"clip-{n:02d}.mp4", source, tone)

        # ffmpeg makes the clips two at a time; they are imported one by one, in the order of ENTRIES.
        paths = pool.map(clip_of, missing)
        for (_n, (code, title, summary, authors, _source, _tone)), path in zip(missing, paths, strict=True):
            with path.open("rb") as stream:
                entries.import_clip(
                    session,
                    storage,
                    actor=None,
                    contest=contest,
                    unit=units[code],
                    title=title,
                    summary=summary,
                    authors=authors,
                    stream=stream,
                    filename=f"{title}.mp4",
                    content_type="video/mp4",
                )
    session.flush()
    return [
        e.clip.id
        for e in session.scalars(select(Entry).where(Entry.contest_id == contest.id).order_by(Entry.id))
        if e.clip is not None and e.clip.status != ClipStatus.READY
    ]


def _points(quality: float, judge_index: int, criterion: dict) -> float:
    """A deterministic score: the entry's quality, nudged per judge, on the criterion's 0.5 steps."""
    nudge = (-0.03, 0.02, 0.01)[judge_index]
    raw = criterion["max_points"] * min(max(quality + nudge, 0), 1)
    return round(raw * 2) / 2


def judge_and_publish(session: Session) -> dict:
    """Score the round with the three demo judges, grant the awards from the ranking, publish and issue the
    certificates (idempotent: a published contest is left as it is)."""
    contest = contests.get_contest(session, SLUG)
    if contest is None:
        raise RuntimeError("prepare the published demo first")
    if results.latest_publication(session, contest) is None:
        _judge_and_publish(session, contest)
    certificates = paperwork.issue_certificates(session, actor=_user(session, ORGANISER), contest=contest)
    seed_outreach(session, contest)
    entries_ready = sum(
        1
        for e in session.scalars(select(Entry).where(Entry.contest_id == contest.id))
        if e.clip is not None and e.clip.status == ClipStatus.READY
    )
    return {"contest": SLUG, "entries_ready": entries_ready, "certificates": len(certificates)}


def _judge_and_publish(session: Session, contest: Contest) -> None:
    organiser = _user(session, ORGANISER)
    judges = [_user(session, email) for email in JUDGES]
    rnd = scoring.current_round(session, contest)
    if rnd is None:
        rnd = rounds.create_round(session, actor=organiser, contest=contest, **FINAL_ROUND)
        rounds.set_panel(session, actor=organiser, rnd=rnd, judges=judges)
        rounds.set_round_status(session, actor=organiser, rnd=rnd, status=RoundStatus.OPEN)
    quality = {title: 0.93 - 0.045 * n for n, (_u, title, *_rest) in enumerate(ENTRIES)}
    for entry in scoring.round_entries(session, rnd):
        for j, judge in enumerate(judges):
            if scoring.conflicted(judge, entry):
                continue
            sheet = scoring.get_sheet(session, rnd=rnd, entry=entry, judge=judge)
            if sheet is not None and sheet.status == SheetStatus.SUBMITTED:
                continue
            points = {
                c.id: _points(quality.get(entry.title, 0.5), j, spec)
                for c, spec in zip(rnd.criteria, CRITERIA, strict=True)
            }
            scoring.save_sheet(session, judge=judge, rnd=rnd, entry=entry, points=points, submit=True)
    rounds.set_round_status(session, actor=organiser, rnd=rnd, status=RoundStatus.CLOSED)
    if not results.awards_of(session, contest):
        for name, count, kind in AWARDS:
            results.create_award(session, actor=organiser, contest=contest, name=name, count=count, kind=kind)
    results.grant_from_ranking(session, actor=organiser, contest=contest, rnd=rnd)
    results.publish(session, actor=organiser, contest=contest, rnd=rnd)


NEWS = [
    (
        "Phát động cuộc thi video clip “Gia đình bình đẳng – Xã hội văn minh”",
        "Ban Tổ chức phát động cuộc thi tới các sở, ngành, phường, xã, hội đoàn thể và trường học.\n\n"
        "Mỗi đơn vị gửi **tối đa 3** clip dài từ 5 đến 10 giây (bản trình diễn). Xem thể lệ và tài liệu kèm theo.",
    ),
    (
        "Công bố kết quả và trao giải cuộc thi",
        "Hội đồng giám khảo đã chấm xong vòng chung khảo. Kết quả và danh sách giải thưởng được công bố trên trang "
        "của cuộc thi; giấy chứng nhận có mã QR để tra cứu.",
    ),
]
MATERIAL_NAME = "Biên bản tổng hợp kết quả chấm.pdf"


def seed_outreach(session: Session, contest: Contest) -> None:
    """Two published news posts and one material (the minutes as a PDF) for the published demo, when missing."""
    import io

    from app.connections import storage
    from app.models import Material, NewsPost
    from app.paperwork.render import render_minutes
    from app.services import materials, news

    if session.scalar(select(NewsPost.id).where(NewsPost.contest_id == contest.id).limit(1)) is None:
        for title, body in NEWS:
            news.create_post(session, actor=None, contest=contest, title=title, body_md=body, publish=True)
    if session.scalar(select(Material.id).where(Material.contest_id == contest.id).limit(1)) is None:
        pdf = render_minutes(paperwork.minutes_of(session, contest), contest)
        materials.add_material(
            session,
            storage(),
            actor=None,
            contest=contest,
            stream=io.BytesIO(pdf),
            filename=MATERIAL_NAME,
            title="Biên bản tổng hợp kết quả chấm (bản trình diễn)",
        )
