"""Contests, their categories, entries and clips."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow
from .enums import ClipStatus, EntryStatus, enum_column
from .org import Unit, User


class Contest(Base):
    __tablename__ = "contest"
    __table_args__ = (
        CheckConstraint("closes_at IS NULL OR opens_at IS NULL OR closes_at > opens_at", name="dates_ordered"),
        CheckConstraint(
            "min_duration_s IS NULL OR max_duration_s IS NULL OR max_duration_s >= min_duration_s",
            name="durations_ordered",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    rules_md: Mapped[str] = mapped_column(Text, default="")
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    timezone: Mapped[str] = mapped_column(String(60), default="Asia/Ho_Chi_Minh")
    min_duration_s: Mapped[float | None] = mapped_column(Float)
    max_duration_s: Mapped[float | None] = mapped_column(Float)
    min_height: Mapped[int | None] = mapped_column(Integer)
    max_entries_per_unit: Mapped[int | None] = mapped_column(Integer)
    max_size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when an organiser closes entry intake by hand (before the deadline, or at publication); None: the dates rule.
    intake_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Outreach: the organiser's banner image (object key, JPEG) and whether all ready entries go public once published.
    banner_key: Mapped[str | None] = mapped_column(String(300))
    gallery_public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Paperwork (certificates, minutes): "Huế, ngày 15 tháng 01 năm 2027" and the signature block. Without a date the
    # publication's date (in the contest's time zone) is printed.
    paper_place: Mapped[str] = mapped_column(String(100), default="")
    paper_date: Mapped[date | None] = mapped_column(Date)
    signer_title: Mapped[str] = mapped_column(String(200), default="")
    signer_name: Mapped[str] = mapped_column(String(200), default="")
    panel_head_name: Mapped[str] = mapped_column(String(200), default="")

    categories: Mapped[list[Category]] = relationship(
        back_populates="contest", order_by="Category.name", cascade="all, delete-orphan"
    )


class ContestPart:
    """The first columns of a named part of a contest (a category, round or award), deleted with the contest. Its
    table's unique constraint leads with contest_id, and so indexes it. (sort_order: first in the table, as the
    migrations made them; a mixin's columns would otherwise follow the class's own.)"""

    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-1)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contest.id", ondelete="CASCADE"), sort_order=-1)
    name: Mapped[str] = mapped_column(String(200), sort_order=-1)


class Category(ContestPart, Base):
    __tablename__ = "category"
    __table_args__ = (UniqueConstraint("contest_id", "name"),)

    contest: Mapped[Contest] = relationship(back_populates="categories")


class Entry(Base):
    __tablename__ = "entry"
    # A unit's entries in a contest (dashboards, per-unit limits); the index also serves lookups by contest alone.
    __table_args__ = (Index("ix_entry_contest_id_unit_id", "contest_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contest.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="RESTRICT"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    # One author per line (newline-separated, NFC); `author_names` gives the list.
    authors: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[EntryStatus] = mapped_column(enum_column(EntryStatus), default=EntryStatus.DRAFT)
    clip_id: Mapped[int | None] = mapped_column(
        ForeignKey("clip.id", ondelete="SET NULL", use_alter=True, name="fk_entry_clip_id_clip")
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    contest: Mapped[Contest] = relationship()
    unit: Mapped[Unit] = relationship()
    category: Mapped[Category | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    clip: Mapped[Clip | None] = relationship(foreign_keys=[clip_id], post_update=True)

    @property
    def author_names(self) -> list[str]:
        """The authors, one name per item."""
        return [line.strip() for line in (self.authors or "").splitlines() if line.strip()]


class Clip(Base):
    __tablename__ = "clip"
    __table_args__ = (CheckConstraint("progress >= 0 AND progress <= 1", name="progress_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"), index=True)
    original_key: Mapped[str] = mapped_column(String(300), unique=True)
    filename: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str | None] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[ClipStatus] = mapped_column(enum_column(ClipStatus), default=ClipStatus.UPLOADED, index=True)
    reason_code: Mapped[str | None] = mapped_column(String(60))
    reason_params: Mapped[dict | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    # Every rule a rejected clip breaks, in order: [{"code": ..., "params": {...}}]; reason_code is the first.
    rejections: Mapped[list | None] = mapped_column(JSON)
    probe: Mapped[dict | None] = mapped_column(JSON)
    duration_s: Mapped[float | None] = mapped_column(Float)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    renditions: Mapped[list | None] = mapped_column(JSON)
    poster_key: Mapped[str | None] = mapped_column(String(300))
    poster_small_key: Mapped[str | None] = mapped_column(String(300))
    storyboard_key: Mapped[str | None] = mapped_column(String(300))
    storyboard_vtt_key: Mapped[str | None] = mapped_column(String(300))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    stage: Mapped[str | None] = mapped_column(String(40))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Retries after infrastructure errors (store, database, queue, disk): when the current run of them began, when the
    # next try is due (the sweepers enqueue it then), and the id logged with a failure (organisers look it up).
    retrying_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    error_id: Mapped[str | None] = mapped_column(String(32))
    # S3 multipart upload in progress (resumable uploads); cleared when completed or aborted.
    upload_id: Mapped[str | None] = mapped_column(String(300))
    upload_size: Mapped[int | None] = mapped_column(BigInteger)
    upload_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    entry: Mapped[Entry] = relationship(foreign_keys=[entry_id])
