"""Demo data for `make run` and the browser tests: one contest modelled on a real city contest (idempotent)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import passwords
from app.models import Award, Contest, Role, RoundStatus, Unit, User, utcnow
from app.services import accounts, contests, invitations, rounds

DEMO_PASSWORD = passwords.DEMO_PASSWORD  # published demo logins: valid only for the @demo.vn accounts seeded here

RULES = """## Thể lệ cuộc thi

1. **Đối tượng dự thi**: các sở, ban, ngành, UBND phường, xã, các hội đoàn thể và trường học trên địa bàn thành phố.
2. **Sản phẩm dự thi**: clip dài từ 2 đến 7 phút, chất lượng tối thiểu HD 720p, khuyến khích tỷ lệ khung hình 16:9;
   định dạng MP4 (chấp nhận MOV, AVI).
3. Mỗi đơn vị gửi **tối đa 3** tác phẩm. Tác phẩm kèm tên, tóm tắt sáng kiến/mô hình/giải pháp và tác giả.
4. **Giải thưởng**: 01 giải Nhất, 01 giải Nhì, 01 giải Ba, 02 giải Khuyến khích.

Ban Tổ chức không nhận tác phẩm của thành viên Ban Tổ chức và Ban Giám khảo.
"""

UNITS = [
    ("SLDTBXH", "Sở Lao động – Thương binh và Xã hội", "department"),
    ("SVHTT", "Sở Văn hóa và Thông tin", "department"),
    ("P-BENNGHE", "UBND phường Bến Nghé", "ward"),
    ("X-TANNHUT", "UBND xã Tân Nhựt", "commune"),
    ("HLHPN", "Hội Liên hiệp Phụ nữ thành phố", "association"),
    ("THPT-LHP", "Trường THPT Lê Hồng Phong", "school"),
]

CRITERIA = [
    {
        "name": "Nội dung",
        "description": "Thông điệp về bình đẳng giới rõ ràng, đúng chủ đề, có sức lan tỏa.",
        "max_points": 40,
        "weight": 1,
        "step": 0.5,
    },
    {
        "name": "Tính sáng tạo",
        "description": "Cách thể hiện mới, sáng kiến/mô hình có tính đột phá.",
        "max_points": 30,
        "weight": 1,
        "step": 0.5,
    },
    {"name": "Kỹ thuật", "description": "Hình ảnh, âm thanh, dựng phim.", "max_points": 20, "weight": 1, "step": 0.5},
    {
        "name": "Khả năng nhân rộng",
        "description": "Có thể áp dụng ở đơn vị khác.",
        "max_points": 10,
        "weight": 1,
        "step": 0.5,
    },
]

ACCOUNTS = [
    ("admin@demo.vn", "Quản Trị Viên Hệ Thống", Role.ADMIN, None),
    ("organiser@demo.vn", "Nguyễn Thị Ban Tổ Chức", Role.ORGANISER, None),
    ("judge1@demo.vn", "Trần Văn Giám Khảo", Role.JUDGE, None),
    ("judge2@demo.vn", "Lê Thị Giám Khảo", Role.JUDGE, None),
    ("judge3@demo.vn", "Phạm Minh Giám Khảo (SVHTT)", Role.JUDGE, "SVHTT"),
    ("bennghe@demo.vn", "Võ Thị Văn Thư (P. Bến Nghé)", Role.UNIT, "P-BENNGHE"),
    ("tannhut@demo.vn", "Đỗ Văn Cán Bộ (X. Tân Nhựt)", Role.UNIT, "X-TANNHUT"),
    ("hlhpn@demo.vn", "Hoàng Thị Hội Viên (HLHPN)", Role.UNIT, "HLHPN"),
]


# An account created without a password and invited by mail: `make run` shows its invitation in the Outbox (and in
# var/mail/, the local SMTP server's folder).
INVITED = ("svhtt@demo.vn", "Bùi Văn Truyền Thông (SVHTT)", Role.UNIT, "SVHTT")


def seed(session: Session) -> dict:
    """Create whatever of the demo is missing; returns what exists, with the demo logins."""
    units = {u.code: u for u in session.scalars(select(Unit))}
    for code, name, kind in UNITS:
        if code not in units:
            units[code] = accounts.create_unit(session, code=code, name=name, kind=kind)
    existing = {u.email for u in session.scalars(select(User))}
    for email, name, role, unit_code in ACCOUNTS:
        if email.lower() not in existing:
            accounts.create_user(
                session,
                email=email,
                name=name,
                password=DEMO_PASSWORD,
                demo=True,
                role=role,
                unit=units[unit_code] if unit_code else None,
            )
    contest = session.scalar(select(Contest).where(Contest.slug == "demo"))
    if contest is None:
        now = utcnow()
        contest = contests.create_contest(
            session,
            slug="demo",
            title="Tìm kiếm sáng kiến, mô hình, giải pháp truyền thông hiệu quả về bình đẳng giới",
            description="Cuộc thi trực tuyến do Sở Lao động – Thương binh và Xã hội phối hợp Sở Văn hóa và Thông tin "
            "tổ chức, nhằm lan tỏa các cách làm hay về bình đẳng giới.",
            rules_md=RULES,
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=30),
            # The facts box must say what the rules text says (2–7 minutes, at least HD 720p, 3 entries per unit).
            min_duration_s=2 * 60,
            max_duration_s=7 * 60,
            min_height=720,
            max_entries_per_unit=3,
            categories=["Sáng kiến", "Mô hình", "Giải pháp truyền thông"],
        )
        rnd = rounds.create_round(session, contest=contest, name="Sơ khảo", criteria=CRITERIA)
        organiser = session.scalar(select(User).where(User.email == "organiser@demo.vn"))
        judges = list(session.scalars(select(User).where(User.role == Role.JUDGE).order_by(User.id)))
        rounds.set_panel(session, actor=organiser, rnd=rnd, judges=judges)
        rounds.set_round_status(session, actor=organiser, rnd=rnd, status=RoundStatus.OPEN)
        for position, (name, count) in enumerate(
            [("Giải Nhất", 1), ("Giải Nhì", 1), ("Giải Ba", 1), ("Giải Khuyến khích", 2)], start=1
        ):
            session.add(Award(contest_id=contest.id, name=name, count=count, position=position))
        session.flush()
    email, name, role, unit_code = INVITED
    if email not in existing:
        organiser = session.scalar(select(User).where(User.email == "organiser@demo.vn"))
        invitee = accounts.create_user(
            session, actor=organiser, email=email, name=name, password=None, role=role, unit=units[unit_code]
        )
        invitations.invite_user(session, user=invitee, actor=organiser)
    return {"contest": contest.slug, "password": DEMO_PASSWORD, "logins": [a[0].lower() for a in ACCOUNTS]}
