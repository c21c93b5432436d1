"""All tables; import models from here."""

from . import enums
from .awards import AuditEvent, Award, AwardGrant, Certificate, Publication
from .base import Base, utcnow
from .contest import Category, Clip, Contest, Entry
from .enums import *  # noqa: F403 - every vocabulary, as listed in enums.__all__
from .judging import Assignment, Conflict, Criterion, PanelMember, Round, RoundEntry, Score, ScoreSheet
from .mail import AccountToken, ContestNotificationOff, OutboxMessage
from .org import Unit, User
from .outreach import Material, NewsPost
from .sessions import LoginSession

__all__ = [
    "AccountToken",
    "ContestNotificationOff",
    "OutboxMessage",
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
    "Contest",
    "Criterion",
    "Entry",
    "LoginSession",
    "Material",
    "NewsPost",
    "PanelMember",
    "Publication",
    "Round",
    "Score",
    "ScoreSheet",
    "Unit",
    "User",
    "utcnow",
]
__all__ += enums.__all__
