"""Contests: creation, editing, and the entry-intake phase (docs/lifecycle.md)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.db import DbSession
from app.models import Category, Contest, IntakeState, User, utcnow
from app.services import PortalError
from app.services.audit import add_created, record_event

MAX_ENTRIES_PER_UNIT = 1000
MAX_DURATION_S = 24 * 3600.0
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,58}[a-z0-9]$")
EDITABLE = (
    "title",
    "description",
    "rules_md",
    "opens_at",
    "closes_at",
    "min_duration_s",
    "max_duration_s",
    "min_height",
    "max_entries_per_unit",
    "max_size_bytes",
    "timezone",
    "paper_place",
    "paper_date",
    "signer_title",
    "signer_name",
    "panel_head_name",
)


def _check(contest: Contest) -> None:
    if not (contest.title or "").strip():
        raise PortalError(_l("The contest needs a title."), field="title")
    if contest.opens_at and contest.closes_at and contest.closes_at <= contest.opens_at:
        raise PortalError(_l("The deadline must be after the opening time."), field="closes_at")
    lo, hi = contest.min_duration_s, contest.max_duration_s
    if any(v is not None and not (math.isfinite(v) and v <= MAX_DURATION_S) for v in (lo, hi)):
        raise PortalError(_l("Durations must be at most 24 hours (86400 seconds)."), field="max_duration_s")
    if (lo is not None and lo < 0) or (hi is not None and hi <= 0):
        raise PortalError(_l("Durations must be positive."), field="min_duration_s")
    if lo is not None and hi is not None and hi < lo:
        raise PortalError(_l("The maximum duration must not be below the minimum."), field="max_duration_s")
    if contest.min_height is not None and not 0 < contest.min_height <= 4320:
        raise PortalError(_l("The minimum height must be between 1 and 4320 pixels."), field="min_height")
    if contest.max_entries_per_unit is not None and contest.max_entries_per_unit < 1:
        raise PortalError(_l("The entry limit per unit must be at least 1."), field="max_entries_per_unit")
    if contest.max_entries_per_unit is not None and contest.max_entries_per_unit > MAX_ENTRIES_PER_UNIT:
        raise PortalError(
            _l("The entry limit per unit must be at most %(count)d.", count=MAX_ENTRIES_PER_UNIT),
            field="max_entries_per_unit",
        )
    if contest.max_size_bytes is not None and not 0 < contest.max_size_bytes <= 2**62:
        raise PortalError(_l("The maximum file size is not valid."), field="max_size_bytes")


def create_contest(
    session: DbSession,
    *,
    actor: User | None = None,
    slug: str,
    title: str,
    categories: Sequence[str] = (),
    **fields,
) -> Contest:
    """Create a contest (audited; actor None is the operator's command line); without dates it is open for
    entries now, with no deadline."""
    slug = slug.strip().lower()
    if not SLUG_RE.match(slug):
        raise PortalError(_l("The short name may use lower-case letters, digits and hyphens (3–60)."), field="slug")
    if session.scalar(select(Contest).where(Contest.slug == slug)):
        raise PortalError(_l("A contest with short name %(slug)s already exists.", slug=slug), field="slug")
    contest = Contest(slug=slug, title=title.strip(), **{k: v for k, v in fields.items() if k in EDITABLE})
    _check(contest)
    contest.categories = [Category(name=c.strip()) for c in categories if c.strip()]
    return add_created(session, contest, actor=actor, action="contest.create", after={"slug": contest.slug})


def update_contest(
    session: DbSession,
    *,
    actor: User | None = None,
    contest: Contest,
    categories: Sequence[str] | None = None,
    **fields,
) -> dict:
    """Apply edits (audited); returns {field: (before, after)}."""
    changes = {}
    for key, value in fields.items():
        if key in EDITABLE and getattr(contest, key) != value:
            changes[key] = (getattr(contest, key), value)
            setattr(contest, key, value)
    _check(contest)
    if categories is not None:
        wanted = [c.strip() for c in categories if c.strip()]
        existing = {c.name: c for c in contest.categories}
        for name in wanted:
            if name not in existing:
                contest.categories.append(Category(name=name))
        for name, cat in existing.items():
            if name not in wanted:
                contest.categories.remove(cat)
    record_event(
        session,
        actor=actor,
        action="contest.update",
        obj=contest,
        before={k: str(v[0]) for k, v in changes.items()},
        after={k: str(v[1]) for k, v in changes.items()},
    )
    return changes


def intake_state(contest: Contest, now: datetime | None = None) -> IntakeState:
    """Where entry intake stands. Publication plays no part: results may be published while intake is open."""
    now = now or utcnow()
    if contest.intake_closed_at is not None:
        return IntakeState.CLOSED_BY_ORGANISER
    if contest.opens_at and now < contest.opens_at:
        return IntakeState.UPCOMING
    if contest.closes_at and now >= contest.closes_at:
        return IntakeState.DEADLINE_PASSED
    return IntakeState.OPEN


def accepts_entries(contest: Contest, now: datetime | None = None) -> bool:
    """True while units may create, edit, upload and submit (entries under judging or published excepted)."""
    return intake_state(contest, now) == IntakeState.OPEN


INTAKE_REFUSALS = {
    IntakeState.UPCOMING: _l("The contest is not open for entries yet."),
    IntakeState.DEADLINE_PASSED: _l("The deadline has passed: entries can no longer be created, changed or submitted."),
    IntakeState.CLOSED_BY_ORGANISER: _l(
        "The organisers have closed entry intake: entries can no longer be created, changed or submitted."
    ),
}


def intake_refusal(contest: Contest, now: datetime | None = None):
    """The true reason why units may not create or change entries now (a lazy message), or None while intake is open."""
    return INTAKE_REFUSALS.get(intake_state(contest, now))


def close_intake(session: DbSession, *, actor: User | None, contest: Contest) -> bool:
    """Close entry intake now, before the deadline (audited); False when it was closed by hand already."""
    if contest.intake_closed_at is not None:
        return False
    _set_intake_closed_at(session, actor=actor, contest=contest, closed_at=utcnow(), action="contest.intake_close")
    return True


def reopen_intake(session: DbSession, *, actor: User | None, contest: Contest) -> IntakeState:
    """Undo an organiser's closing (audited); the dates rule again, so after the deadline intake stays shut."""
    if contest.intake_closed_at is None:
        raise PortalError(_l("Entry intake was not closed by the organisers."))
    return _set_intake_closed_at(session, actor=actor, contest=contest, closed_at=None, action="contest.intake_reopen")


def _set_intake_closed_at(
    session: DbSession, *, actor: User | None, contest: Contest, closed_at: datetime | None, action: str
) -> IntakeState:
    """Set or clear the organisers' closing of intake, audit the intake state before and after; the new state."""
    before = intake_state(contest)
    contest.intake_closed_at = closed_at
    after = intake_state(contest)
    record_event(
        session, actor=actor, action=action, obj=contest, before={"intake": before.value}, after={"intake": after.value}
    )
    return after


def get_contest(session: DbSession, slug: str) -> Contest | None:
    return session.scalar(select(Contest).where(Contest.slug == slug))


def list_contests(session: DbSession) -> list[Contest]:
    return list(session.scalars(select(Contest).order_by(Contest.created_at.desc(), Contest.id.desc())))
