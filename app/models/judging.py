"""Judging rounds, rubrics, panels and score sheets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow
from .contest import Contest, ContestPart, Entry
from .enums import AggregationMethod, AssignmentMode, RoundStatus, SheetStatus, enum_column
from .org import User


class Round(ContestPart, Base):
    __tablename__ = "round"
    __table_args__ = (UniqueConstraint("contest_id", "position"),)

    position: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[RoundStatus] = mapped_column(enum_column(RoundStatus), default=RoundStatus.DRAFT)
    blind: Mapped[bool] = mapped_column(Boolean, default=False)
    aggregation: Mapped[AggregationMethod] = mapped_column(
        enum_column(AggregationMethod), default=AggregationMethod.MEAN
    )
    # Ordered tie-break rules: "criterion:<name>", "median", "first_places".
    tie_breaks: Mapped[list] = mapped_column(JSON, default=list)
    trim: Mapped[int] = mapped_column(Integer, default=1)
    assignment_mode: Mapped[AssignmentMode] = mapped_column(enum_column(AssignmentMode), default=AssignmentMode.PANEL)
    per_entry: Mapped[int | None] = mapped_column(Integer)
    # Spread (max − min of judge totals) above this flags an entry for discussion; None: 25% of the maximum total.
    flag_threshold: Mapped[float | None] = mapped_column(Float)
    # Later rounds judge only their shortlist (RoundEntry rows); the first round takes every eligible entry.
    uses_shortlist: Mapped[bool] = mapped_column(Boolean, default=False)
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    contest: Mapped[Contest] = relationship()
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="round", order_by="Criterion.position", cascade="all, delete-orphan"
    )
    panel: Mapped[list[PanelMember]] = relationship(back_populates="round", cascade="all, delete-orphan")


class Criterion(Base):
    __tablename__ = "criterion"
    __table_args__ = (
        UniqueConstraint("round_id", "name"),
        CheckConstraint("max_points > 0", name="max_positive"),
        CheckConstraint("weight > 0", name="weight_positive"),
        CheckConstraint("step > 0", name="step_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"))  # indexed by the unique
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    max_points: Mapped[float] = mapped_column(Float)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    step: Mapped[float] = mapped_column(Float, default=0.5)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Optional descriptions of score levels: [{"points": 8, "label": "Excellent: …"}, …]
    levels: Mapped[list | None] = mapped_column(JSON)

    round: Mapped[Round] = relationship(back_populates="criteria")


class PanelMember(Base):
    __tablename__ = "panel_member"

    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"), primary_key=True)
    judge_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)

    round: Mapped[Round] = relationship(back_populates="panel")
    judge: Mapped[User] = relationship()


class ScoreSheet(Base):
    __tablename__ = "score_sheet"
    __table_args__ = (
        UniqueConstraint("round_id", "entry_id", "judge_id"),
        # Covers the results board's version check (count and latest change per status) without reading the table.
        Index("ix_score_sheet_round_id_status_updated_at", "round_id", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"))  # indexed by the unique
    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"), index=True)
    judge_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    status: Mapped[SheetStatus] = mapped_column(enum_column(SheetStatus), default=SheetStatus.DRAFT)
    comment: Mapped[str] = mapped_column(Text, default="")
    # Optional comment per criterion: {"<criterion id>": "text"}
    criterion_comments: Mapped[dict] = mapped_column(JSON, default=dict)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when an organiser reopens the sheet: its judge may edit it even after the round closed.
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    round: Mapped[Round] = relationship()
    entry: Mapped[Entry] = relationship()
    judge: Mapped[User] = relationship()
    scores: Mapped[list[Score]] = relationship(back_populates="sheet", cascade="all, delete-orphan")


class Score(Base):
    __tablename__ = "score"
    __table_args__ = (CheckConstraint("points >= 0", name="points_nonnegative"),)

    sheet_id: Mapped[int] = mapped_column(ForeignKey("score_sheet.id", ondelete="CASCADE"), primary_key=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criterion.id", ondelete="CASCADE"), primary_key=True)
    points: Mapped[float] = mapped_column(Float)

    sheet: Mapped[ScoreSheet] = relationship(back_populates="scores")
    criterion: Mapped[Criterion] = relationship()


class Assignment(Base):
    """A judge assigned to an entry in a round scored K-per-entry."""

    __tablename__ = "assignment"

    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"), primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"), primary_key=True)
    judge_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class RoundEntry(Base):
    """An entry advanced into a round that uses a shortlist."""

    __tablename__ = "round_entry"

    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"), primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"), primary_key=True)


class Conflict(Base):
    """A judge's declared conflict of interest (or recusal) for an entry; they no longer see or score it."""

    __tablename__ = "conflict"
    __table_args__ = (UniqueConstraint("judge_id", "entry_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    judge_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))  # indexed by the unique
    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"), index=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("round.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    judge: Mapped[User] = relationship()
    entry: Mapped[Entry] = relationship()
