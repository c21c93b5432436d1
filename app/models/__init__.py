"""All tables; import models from here."""

from .awards import AuditEvent, Award, AwardGrant, Certificate, Publication
from .base import Base, utcnow
from .contest import Category, Clip, Contest, Entry
from .enums import (
    AggregationMethod,
    AssignmentMode,
    AwardKind,
    ClipStatus,
    EntryStatus,
    Role,
    RoundStatus,
    SheetStatus,
    UnitKind,
)
from .judging import Assignment, Conflict, Criterion, PanelMember, Round, RoundEntry, Score, ScoreSheet
from .org import Unit, User
from .sessions import LoginSession

__all__ = [
    "AggregationMethod",
    "AssignmentMode",
    "AwardKind",
    "UnitKind",
    "Assignment",
    "AuditEvent",
    "Award",
    "Conflict",
    "RoundEntry",
    "AwardGrant",
    "Base",
    "Category",
    "Certificate",
    "Clip",
    "ClipStatus",
    "Contest",
    "Criterion",
    "Entry",
    "LoginSession",
    "EntryStatus",
    "PanelMember",
    "Publication",
    "Role",
    "Round",
    "RoundStatus",
    "Score",
    "ScoreSheet",
    "SheetStatus",
    "Unit",
    "User",
    "utcnow",
]
