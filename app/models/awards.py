"""Awards, grants, frozen publications and the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow
from .contest import Contest, ContestPart, Entry
from .enums import AwardKind, enum_column
from .org import User


class Award(ContestPart, Base):
    __tablename__ = "award"
    __table_args__ = (UniqueConstraint("contest_id", "name"), CheckConstraint("count > 0", name="count_positive"))

    position: Mapped[int] = mapped_column(Integer, default=1)
    count: Mapped[int] = mapped_column(Integer, default=1)
    kind: Mapped[AwardKind] = mapped_column(enum_column(AwardKind), default=AwardKind.GROUP)

    contest: Mapped[Contest] = relationship()
    grants: Mapped[list[AwardGrant]] = relationship(back_populates="award", cascade="all, delete-orphan")


class AwardGrant(Base):
    __tablename__ = "award_grant"
    __table_args__ = (UniqueConstraint("entry_id"),)  # one award per entry

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("award.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"))

    award: Mapped[Award] = relationship(back_populates="grants")
    entry: Mapped[Entry] = relationship()


class Publication(Base):
    __tablename__ = "publication"

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contest.id", ondelete="CASCADE"), index=True)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    snapshot: Mapped[dict] = mapped_column(JSON)

    published_by: Mapped[User | None] = relationship()


class AuditEvent(Base):
    __tablename__ = "audit_event"
    # A contest's log, newest first; the index also serves lookups by contest alone.
    __table_args__ = (Index("ix_audit_event_contest_id_at", "contest_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    contest_id: Mapped[int | None] = mapped_column(ForeignKey("contest.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(40))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)

    actor: Mapped[User | None] = relationship()


class Certificate(Base):
    """One award recipient of one publication, with the unguessable code its QR verification link carries.

    Like the publication snapshot it comes from, it is frozen: names are copied, not referenced."""

    __tablename__ = "certificate"
    __table_args__ = (UniqueConstraint("publication_id", "entry_ref", "recipient"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contest.id", ondelete="CASCADE"), index=True)
    # Indexed by the unique (publication_id, entry_ref, recipient).
    publication_id: Mapped[int] = mapped_column(ForeignKey("publication.id", ondelete="CASCADE"))
    entry_ref: Mapped[int] = mapped_column(Integer)  # the snapshot's entry id (no foreign key: the copy is frozen)
    award_name: Mapped[str] = mapped_column(String(200))
    award_kind: Mapped[AwardKind] = mapped_column(enum_column(AwardKind))
    recipient: Mapped[str] = mapped_column(String(300))
    unit_name: Mapped[str] = mapped_column(String(200))
    entry_title: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer, default=0)  # order on the results page and in the ZIP
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    contest: Mapped[Contest] = relationship()
    publication: Mapped[Publication] = relationship()
