"""Contests: creation, editing, phases."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.db import DbSession
from app.models import Category, Contest, User, utcnow
from app.services import PortalError
from app.services.audit import record_event

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
    if (lo is not None and lo < 0) or (hi is not None and hi <= 0):
        raise PortalError(_l("Durations must be positive."), field="min_duration_s")
    if lo is not None and hi is not None and hi < lo:
        raise PortalError(_l("The maximum duration must not be below the minimum."), field="max_duration_s")
    if contest.min_height is not None and not 0 < contest.min_height <= 4320:
        raise PortalError(_l("The minimum height must be between 1 and 4320 pixels."), field="min_height")
    if contest.max_entries_per_unit is not None and contest.max_entries_per_unit < 1:
        raise PortalError(_l("The entry limit per unit must be at least 1."), field="max_entries_per_unit")


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
    session.add(contest)
    session.flush()
    record_event(
        session, actor=actor, action="contest.create", obj=contest, contest_id=contest.id, after={"slug": contest.slug}
    )
    return contest


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
    session.flush()
    record_event(
        session,
        actor=actor,
        action="contest.update",
        obj=contest,
        contest_id=contest.id,
        before={k: str(v[0]) for k, v in changes.items()},
        after={k: str(v[1]) for k, v in changes.items()},
    )
    return changes


def accepts_entries(contest: Contest, now: datetime | None = None) -> bool:
    """True while units may create, edit, upload and submit."""
    now = now or utcnow()
    if contest.published_at is not None:
        return False
    if contest.opens_at and now < contest.opens_at:
        return False
    return not (contest.closes_at and now >= contest.closes_at)


def phase(contest: Contest, now: datetime | None = None) -> str:
    """One of: upcoming, open, closed, published."""
    now = now or utcnow()
    if contest.published_at:
        return "published"
    if contest.opens_at and now < contest.opens_at:
        return "upcoming"
    if contest.closes_at and now >= contest.closes_at:
        return "closed"
    return "open"


def get_contest(session: DbSession, slug: str) -> Contest | None:
    return session.scalar(select(Contest).where(Contest.slug == slug))


def list_contests(session: DbSession) -> list[Contest]:
    return list(session.scalars(select(Contest).order_by(Contest.created_at.desc(), Contest.id.desc())))
