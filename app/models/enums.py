"""The domain vocabularies (states, roles, methods, kinds), stored as their string values with a CHECK constraint.

Their translated labels live in `app.labels`."""

from __future__ import annotations

import enum

from sqlalchemy import Enum


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
