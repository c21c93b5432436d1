"""Exports for organisers: results, the full score matrix and the audit log, as CSV or XLSX with Vietnamese headers."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.db import DbSession
from app.labels import label
from app.models import AuditEvent, Entry, Round, ScoreSheet, User
from app.services.results import Board

# Every export is written by the neutralising writers (formula injection, docs/security.md).
from app.spreadsheets import to_csv as to_csv
from app.spreadsheets import to_xlsx as to_xlsx

RESULT_HEADERS = [
    "Hạng",
    "Mã tác phẩm",
    "Tên tác phẩm",
    "Đơn vị",
    "Điểm (chính thức)",
    "Số giám khảo",
    "Đồng hạng",
    "Phân định đồng hạng",
    "Giải thưởng",
    "Độ lệch (max − min)",
    "Cần thảo luận",
    "Hạng theo trung bình",
    "Hạng theo trung vị",
    "Hạng theo trung bình cắt",
    "Hạng theo điểm Z",
    "Hạng theo Borda",
]
MATRIX_HEADERS = [
    "Mã tác phẩm",
    "Tên tác phẩm",
    "Đơn vị",
    "Giám khảo",
    "Tiêu chí",
    "Điểm",
    "Hệ số",
    "Điểm có hệ số",
    "Trạng thái phiếu",
    "Nhận xét tiêu chí",
    "Nhận xét chung",
]
PARTICIPATION_HEADERS = [
    "Mã đơn vị",
    "Tên đơn vị",
    "Loại",
    "Đã tham gia",
    "Số tác phẩm",
    "Đã nộp",
    "Số cán bộ",
    "Hoạt động gần nhất (giờ Việt Nam)",
]
AUDIT_HEADERS = [
    "Thời điểm (giờ Việt Nam)",
    "Người thực hiện",
    "Hành động",
    "Đối tượng",
    "Mã đối tượng",
    "Trước",
    "Sau",
]


def result_rows(board: Board) -> list[list]:
    rows = []
    for board_row in board.rows:
        official = board_row.official
        rows.append(
            [
                official.rank,
                official.entry.id,
                official.entry.title,
                official.entry.unit.name,
                round(official.score, 4),
                official.judges,
                "có" if official.tied else "",
                official.tie_break or "",
                official.award.name if official.award else "",
                round(board_row.spread.range, 4) if board_row.spread else "",
                "có" if board_row.spread and board_row.spread.flag else "",
                *[board_row.by_method[m][0] for m in board.methods],
            ]
        )
    return rows


def matrix_rows(session: DbSession, rnd: Round) -> list[list]:
    """One line per judge × entry × criterion, every sheet (drafts included, marked)."""
    criteria = {c.id: c for c in rnd.criteria}
    sheets = session.scalars(
        select(ScoreSheet)
        .options(
            selectinload(ScoreSheet.scores),
            selectinload(ScoreSheet.entry).selectinload(Entry.unit),
            selectinload(ScoreSheet.judge),
        )
        .where(ScoreSheet.round_id == rnd.id)
        .order_by(ScoreSheet.entry_id, ScoreSheet.judge_id)
    )
    rows = []
    for sheet in sheets:
        state = "đã gửi" if sheet.status.value == "submitted" else "bản nháp"
        for score in sorted(sheet.scores, key=lambda s: criteria[s.criterion_id].position):
            criterion = criteria[score.criterion_id]
            rows.append(
                [
                    sheet.entry_id,
                    sheet.entry.title,
                    sheet.entry.unit.name,
                    sheet.judge.name,
                    criterion.name,
                    score.points,
                    criterion.weight,
                    round(score.points * criterion.weight, 4),
                    state,
                    (sheet.criterion_comments or {}).get(str(criterion.id), ""),
                    sheet.comment,
                ]
            )
    return rows


def judging_scores_rows(session: DbSession, rnd: Round) -> list[list]:
    """Submitted scores in the `python -m judging` format (entry,judge,criterion,points), for independent audit."""
    names = {c.id: c.name for c in rnd.criteria}
    from app.models import Score, SheetStatus

    rows = session.execute(
        select(ScoreSheet.entry_id, ScoreSheet.judge_id, Score.criterion_id, Score.points)
        .join(Score, Score.sheet_id == ScoreSheet.id)
        .where(ScoreSheet.round_id == rnd.id, ScoreSheet.status == SheetStatus.SUBMITTED)
        .order_by(ScoreSheet.entry_id, ScoreSheet.judge_id, Score.criterion_id)
    )
    return [[e, j, names[c], f"{p:g}"] for e, j, c, p in rows]


def judging_rubric_rows(rnd: Round) -> list[list]:
    return [[c.name, f"{c.max_points:g}", f"{c.weight:g}"] for c in rnd.criteria]


def audit_rows(session: DbSession, contest_id: int | None, tz: str, *, everything: bool = False) -> list[list]:
    """The raw audit records of one contest, of no contest (contest_id None), or all of them (everything)."""
    zone = ZoneInfo(tz)
    query = select(AuditEvent, User.name).outerjoin(User, User.id == AuditEvent.actor_id)
    if not everything:
        query = query.where(
            AuditEvent.contest_id == contest_id if contest_id is not None else AuditEvent.contest_id.is_(None)
        )
    events = session.execute(query.order_by(AuditEvent.at, AuditEvent.id))
    return [
        [
            e.at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
            name or "",
            e.action,
            e.object_type,
            e.object_id or "",
            _flat(e.before),
            _flat(e.after),
        ]
        for e, name in events
    ]


def _vietnamese_label(member) -> str:
    """The Vietnamese label of a vocabulary member: exports have Vietnamese headers, so their words are Vietnamese."""
    with force_locale("vi"):
        return str(label(member))


def participation_rows(rows, tz: str) -> list[list]:
    zone = ZoneInfo(tz)
    return [
        [
            r.unit.code,
            r.unit.name,
            _vietnamese_label(r.unit.kind),
            "có" if r.took_part else "chưa",
            r.entries,
            r.submitted,
            r.members,
            r.last_activity.astimezone(zone).strftime("%Y-%m-%d %H:%M") if r.last_activity else "",
        ]
        for r in rows
    ]


def _flat(doc) -> str:
    if not doc:
        return ""
    return "; ".join(f"{k}={v}" for k, v in doc.items())
