"""The domain vocabularies (states, roles, methods, kinds), stored as their string values with a CHECK constraint.

Their translated labels live in `app.labels`."""

from __future__ import annotations

import enum

from sqlalchemy import Enum

# The vocabularies, re-exported by `app.models`.
__all__ = [
    "AggregationMethod",
    "AssignmentMode",
    "AwardKind",
    "ClipStatus",
    "EntryStatus",
    "IntakeState",
    "MailKind",
    "MailStatus",
    "MaterialKind",
    "NewsStatus",
    "Role",
    "RoundStatus",
    "SheetStatus",
    "TokenPurpose",
    "UnitKind",
]


class Role(enum.StrEnum):
    UNIT = "unit"
    JUDGE = "judge"
    ORGANISER = "organiser"
    ADMIN = "admin"


class EntryStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"
    DISQUALIFIED = "disqualified"


class ClipStatus(enum.StrEnum):
    UPLOADING = "uploading"
    UPLOADED = "uploaded"
    QUEUED = "queued"
    PROCESSING = "processing"
    READY = "ready"
    REJECTED = "rejected"
    FAILED = "failed"


class RoundStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class SheetStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class AggregationMethod(enum.StrEnum):
    """How a round combines judges' totals; the values are `judging.METHODS`."""

    MEAN = "mean"
    MEDIAN = "median"
    TRIMMED_MEAN = "trimmed_mean"
    ZSCORE = "zscore"
    BORDA = "borda"


class AssignmentMode(enum.StrEnum):
    """PANEL: every panel judge scores every entry; PER_ENTRY: K judges per entry, balanced (Assignment rows)."""

    PANEL = "panel"
    PER_ENTRY = "per_entry"


class AwardKind(enum.StrEnum):
    """GROUP goes to the unit, INDIVIDUAL to the entry's authors."""

    GROUP = "group"
    INDIVIDUAL = "individual"


class IntakeState(enum.StrEnum):
    """Where a contest's entry intake stands; derived from its dates and the organiser's choice, never stored."""

    UPCOMING = "upcoming"
    OPEN = "open"
    DEADLINE_PASSED = "deadline_passed"
    CLOSED_BY_ORGANISER = "closed_by_organiser"


class UnitKind(enum.StrEnum):
    DEPARTMENT = "department"
    WARD = "ward"
    COMMUNE = "commune"
    ASSOCIATION = "association"
    SCHOOL = "school"
    OTHER = "other"


class MailKind(enum.StrEnum):
    """What an outbox message is about (app/services/mail.py); notifications and reminders have their own kind."""

    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a vocabulary value, not a secret
    ENTRY_RECEIPT = "entry_receipt"
    CLIP_READY = "clip_ready"
    CLIP_REJECTED = "clip_rejected"
    DEADLINE_REMINDER = "deadline_reminder"
    ROUND_OPENED = "round_opened"
    ROUND_REMINDER = "round_reminder"
    PARTICIPATION_REMINDER = "participation_reminder"
    OTHER = "other"


class MailStatus(enum.StrEnum):
    """QUEUED: waiting to be sent (or retried); SENT: accepted by the SMTP server, never sent again; FAILED: refused for
    good (an admin may re-send it)."""

    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class TokenPurpose(enum.StrEnum):
    """One-time account links: an invitation (7 days) or a password reset (1 hour)."""

    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a vocabulary value, not a secret


class NewsStatus(enum.StrEnum):
    """A news post is seen by the public only once published."""

    DRAFT = "draft"
    PUBLISHED = "published"


class MaterialKind(enum.StrEnum):
    """The document types a contest may attach (rules, forms, guides): by file format."""

    PDF = "pdf"
    DOCX = "docx"
    XLSX = "xlsx"
    PPTX = "pptx"


def enum_column(enum_cls: type[enum.Enum], length: int = 20) -> Enum:
    """A portable (VARCHAR + CHECK) column type storing the enum's values."""
    return Enum(
        enum_cls,
        native_enum=False,
        length=length,
        create_constraint=True,
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )
