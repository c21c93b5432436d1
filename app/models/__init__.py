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
    IntakeState,
    MailKind,
    MailStatus,
    MaterialKind,
    NewsStatus,
    Role,
    RoundStatus,
    SheetStatus,
    TokenPurpose,
    UnitKind,
)
from .judging import Assignment, Conflict, Criterion, PanelMember, Round, RoundEntry, Score, ScoreSheet
from .mail import AccountToken, ContestNotificationOff, OutboxMessage
from .org import Unit, User
from .outreach import Material, NewsPost
from .sessions import LoginSession

__all__ = [
    "AccountToken",
    "ContestNotificationOff",
    "MailKind",
    "MailStatus",
    "OutboxMessage",
    "TokenPurpose",
    "AggregationMethod",
    "AssignmentMode",
    "AwardKind",
    "IntakeState",
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
    "Material",
    "MaterialKind",
    "NewsPost",
    "NewsStatus",
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
