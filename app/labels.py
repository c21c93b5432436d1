"""How the domain vocabularies read to people: one table of translated labels for every enum in `app.models.enums`.

Forms take their choices from `choices()`, templates use the `label` filter (or the per-vocabulary tables below).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from wtforms import SelectChoice

from app.models.enums import (
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

LABELS: Mapping[type[enum.Enum], Mapping[enum.Enum, LazyString]] = {
    Role: {
        Role.UNIT: _l("Unit member"),
        Role.JUDGE: _l("Judge"),
        Role.ORGANISER: _l("Organiser"),
        Role.ADMIN: _l("Administrator"),
    },
    EntryStatus: {
        EntryStatus.DRAFT: _l("Draft"),
        EntryStatus.SUBMITTED: _l("Submitted"),
        EntryStatus.WITHDRAWN: _l("Withdrawn"),
        EntryStatus.DISQUALIFIED: _l("Disqualified"),
    },
    ClipStatus: {
        ClipStatus.UPLOADING: _l("Uploading"),
        ClipStatus.UPLOADED: _l("Uploaded, waiting"),
        ClipStatus.QUEUED: _l("Waiting to be processed"),
        ClipStatus.PROCESSING: _l("Processing"),
        ClipStatus.READY: _l("Ready"),
        ClipStatus.REJECTED: _l("Rejected"),
        ClipStatus.FAILED: _l("Processing failed"),
    },
    RoundStatus: {
        RoundStatus.DRAFT: _l("Not opened"),
        RoundStatus.OPEN: _l("Open for scoring"),
        RoundStatus.CLOSED: _l("Closed"),
    },
    SheetStatus: {
        SheetStatus.DRAFT: _l("Draft"),
        SheetStatus.SUBMITTED: _l("Submitted"),
    },
    AggregationMethod: {
        AggregationMethod.MEAN: _l("Mean"),
        AggregationMethod.MEDIAN: _l("Median"),
        AggregationMethod.TRIMMED_MEAN: _l("Trimmed mean"),
        AggregationMethod.ZSCORE: _l("Z-score"),
        AggregationMethod.BORDA: _l("Borda"),
    },
    AssignmentMode: {
        AssignmentMode.PANEL: _l("The whole panel scores every entry"),
        AssignmentMode.PER_ENTRY: _l("A fixed number of judges per entry, balanced"),
    },
    AwardKind: {
        AwardKind.GROUP: _l("Group prize (to the unit)"),
        AwardKind.INDIVIDUAL: _l("Individual prize (to the authors)"),
    },
    IntakeState: {
        IntakeState.UPCOMING: _l("Entries not open yet"),
        IntakeState.OPEN: _l("Open for entries"),
        IntakeState.DEADLINE_PASSED: _l("Deadline passed: entries closed"),
        IntakeState.CLOSED_BY_ORGANISER: _l("Entries closed by the organisers"),
    },
    UnitKind: {
        UnitKind.DEPARTMENT: _l("Department / office"),
        UnitKind.WARD: _l("Ward"),
        UnitKind.COMMUNE: _l("Commune"),
        UnitKind.ASSOCIATION: _l("Mass association"),
        UnitKind.SCHOOL: _l("School"),
        UnitKind.OTHER: _l("Other"),
    },
    MailKind: {
        MailKind.INVITATION: _l("Invitation"),
        MailKind.PASSWORD_RESET: _l("Password reset"),
        MailKind.ENTRY_RECEIPT: _l("Entry receipt"),
        MailKind.CLIP_READY: _l("Clip ready"),
        MailKind.CLIP_REJECTED: _l("Clip rejected"),
        MailKind.DEADLINE_REMINDER: _l("Deadline reminder"),
        MailKind.ROUND_OPENED: _l("Round opened"),
        MailKind.ROUND_REMINDER: _l("Scoring reminder"),
        MailKind.PARTICIPATION_REMINDER: _l("Participation reminder"),
        MailKind.OTHER: _l("Other"),
    },
    MailStatus: {
        MailStatus.QUEUED: _l("Not sent yet"),
        MailStatus.SENT: _l("Sent"),
        MailStatus.FAILED: _l("Failed"),
    },
    TokenPurpose: {
        TokenPurpose.INVITATION: _l("Invitation"),
        TokenPurpose.PASSWORD_RESET: _l("Password reset"),
    },
    NewsStatus: {
        NewsStatus.DRAFT: _l("Draft"),
        NewsStatus.PUBLISHED: _l("Published"),
    },
    MaterialKind: {
        MaterialKind.PDF: _l("PDF"),
        MaterialKind.DOCX: _l("Word (DOCX)"),
        MaterialKind.XLSX: _l("Excel (XLSX)"),
        MaterialKind.PPTX: _l("PowerPoint (PPTX)"),
    },
}

# Tables indexed by member or by its string value (a StrEnum member equals and hashes as its value).
STATUS_LABELS = LABELS[ClipStatus]
METHOD_LABELS = LABELS[AggregationMethod]


def label(member: enum.Enum) -> LazyString:
    """The translated label of a vocabulary member (the `label` template filter)."""
    return LABELS[type(member)][member]


def choices(enum_cls: type[enum.Enum], members: Iterable[enum.Enum] | None = None) -> list[SelectChoice]:
    """A SelectField's choices: every member in definition order, or only `members`, labelled."""
    table = LABELS[enum_cls]
    return [SelectChoice(member.value, table[member]) for member in (enum_cls if members is None else members)]
