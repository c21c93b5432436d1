"""The mail outbox (one row per message, sent by a job exactly once) and one-time account links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow
from .enums import MailKind, MailStatus, TokenPurpose, enum_column
from .org import User


class OutboxMessage(Base):
    """A mail to send. Rows are never deleted by the portal: the table is the record of what was sent to whom."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The account it was written for (None: a bare address); to_email is the address at the time of writing.
    to_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    to_email: Mapped[str] = mapped_column(String(200))
    to_name: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[MailKind] = mapped_column(enum_column(MailKind, length=40))
    locale: Mapped[str] = mapped_column(String(5))
    contest_id: Mapped[int | None] = mapped_column(ForeignKey("contest.id", ondelete="SET NULL"), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    status: Mapped[MailStatus] = mapped_column(enum_column(MailStatus), default=MailStatus.QUEUED, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # The Message-ID header, fixed when the row is written: a retry after an uncertain delivery carries the same one,
    # so receiving servers and clients can drop the duplicate.
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    # Exactly-once guard for notifications and reminders: (kind, recipient, contest or round, occasion).
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # A sender holds the row until this time (atomic claim); another sender may take it over only afterwards.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    to_user: Mapped[User | None] = relationship()


class AccountToken(Base):
    """A one-time link (invitation or password reset); only the SHA-256 of the token is stored."""

    __tablename__ = "account_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[TokenPurpose] = mapped_column(enum_column(TokenPurpose))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class ContestNotificationOff(Base):
    """A notification the organiser switched off for one contest (every notification is on unless listed here)."""

    __tablename__ = "contest_notification_off"

    contest_id: Mapped[int] = mapped_column(ForeignKey("contest.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[MailKind] = mapped_column(enum_column(MailKind, length=40), primary_key=True)
