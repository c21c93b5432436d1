"""What spreads a contest beyond the portal: news posts and downloadable materials."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow
from .contest import Contest
from .enums import MaterialKind, NewsStatus, enum_column
from .org import User


class NewsPost(Base):
    __tablename__ = "news_post"
    # A contest's published posts, newest first; the index also serves lookups by contest alone.
    __table_args__ = (Index("ix_news_post_contest_id_status", "contest_id", "status", "published_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contest.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    body_md: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[NewsStatus] = mapped_column(enum_column(NewsStatus), default=NewsStatus.DRAFT)
    # Set when first published; the public list and the feed sort by it.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    contest: Mapped[Contest] = relationship()
    author: Mapped[User | None] = relationship()


class Material(Base):
    __tablename__ = "material"

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contest.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    # The original file name as uploaded (NFC), given back on download.
    filename: Mapped[str] = mapped_column(String(255))
    kind: Mapped[MaterialKind] = mapped_column(enum_column(MaterialKind))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    object_key: Mapped[str] = mapped_column(String(300), unique=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    contest: Mapped[Contest] = relationship()
