"""The one policy module: who may see or change what.

Predicates (`is_*`, `can_*`) answer yes or no, for views and services alike; the `require_*` functions raise the
PortalError subclass a service chooses (PermissionDenied by default) with a message fit for the user. Tests cover the
predicates as a matrix.
"""

from __future__ import annotations

from flask import Blueprint, abort
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.db import DbSession
from app.models import Clip, Contest, Entry, OutboxMessage, Role, User
from app.services import PermissionDenied, PortalError, scoring
from app.services.contests import accepts_entries, intake_refusal
from app.services.entry_locks import entry_lock
from app.services.gallery import gallery_clip_ids
from app.services.results import published_clip_ids

STAFF = (Role.ORGANISER, Role.ADMIN)
NOT_A_MEMBER = _l("Only members of the entry's unit may change it.")
NOT_ORGANISER = _l("Only organisers may change a contest's news, materials, banner and gallery.")


def is_staff(user) -> bool:
    """Organisers and administrators."""
    return has_role(user, *STAFF)


def has_role(user, *roles: Role) -> bool:
    """A logged-in user with one of these roles."""
    return bool(user and user.is_authenticated and user.role in roles)


def require_role(blueprint: Blueprint, *roles: Role) -> None:
    """Guard every view of the blueprint: anonymous users go to the login page, other roles get 403."""

    @blueprint.before_request
    @login_required
    def _require_role() -> None:
        if not has_role(current_user, *roles):
            abort(403)


def is_unit_member_of(user, unit_id: int) -> bool:
    """A unit member of exactly this unit."""
    return has_role(user, Role.UNIT) and user.unit_id == unit_id


def can_view_entry(session: DbSession, user, entry: Entry) -> bool:
    """Staff see all; a unit sees its own; a judge sees entries assigned to them in a non-draft round."""
    if is_staff(user) or is_unit_member_of(user, entry.unit_id):
        return True
    if has_role(user, Role.JUDGE):
        return any(
            scoring.is_assigned(session, judge=user, rnd=rnd, entry=entry)
            for rnd in scoring.judge_rounds(session, user)
            if rnd.contest_id == entry.contest_id
        )
    return False


def can_set_active(actor: User | None, user: User, active: bool) -> bool:
    """Anyone allowed to manage accounts may enable or disable one, except disable their own."""
    return active or actor is None or actor.id != user.id


def can_edit_entry(session: DbSession, user, entry: Entry) -> bool:
    """Only the entry's unit, only while intake is open, and only until the entry is judged or published."""
    return (
        is_unit_member_of(user, entry.unit_id) and accepts_entries(entry.contest) and entry_lock(session, entry) is None
    )


def can_view_clip(session: DbSession, user, clip: Clip) -> bool:
    """Media of a clip: whoever may view its entry, and the public once it is among the published winners."""
    entry = clip.entry
    if user and user.is_authenticated and can_view_entry(session, user, entry):
        # Judges only ever get the entry's current clip, never superseded uploads.
        return user.role != Role.JUDGE or entry.clip_id == clip.id
    return clip.id in published_clip_ids(session, entry.contest) or clip.id in gallery_clip_ids(session, entry.contest)


def can_manage_outreach(user) -> bool:
    """A contest's news, materials, banner and public gallery: organisers and administrators."""
    return is_staff(user)


def require_outreach_manager(actor) -> None:
    """Only organisers (or the operator's command line, actor None) write news, add materials, set the banner."""
    require(actor is None or can_manage_outreach(actor), NOT_ORGANISER)


def require(allowed: bool, message, *, error: type[PortalError] = PermissionDenied) -> None:
    """Raise `error(message)` unless allowed: how services turn a predicate into a refusal."""
    if not allowed:
        raise error(message)


def require_unit_member(user, unit_id: int, *, error: type[PortalError] = PermissionDenied) -> None:
    """Only members of the unit (of the entry being changed)."""
    require(is_unit_member_of(user, unit_id), NOT_A_MEMBER, error=error)


def require_accepting_entries(contest: Contest, *, error: type[PortalError] = PortalError) -> None:
    """Only while entry intake is open (between opening and deadline, unless the organisers closed it); the refusal
    gives the true reason."""
    refusal = intake_refusal(contest)
    require(refusal is None, refusal, error=error)


def require_entry_changeable(session: DbSession, entry: Entry, *, error: type[PortalError] = PortalError) -> None:
    """Intake is open and the entry is neither under judging nor published (docs/lifecycle.md)."""
    require_accepting_entries(entry.contest, error=error)
    lock = entry_lock(session, entry)
    require(lock is None, lock, error=error)


def can_manage_account(user, role: Role) -> bool:
    """Admins manage every account; organisers manage unit and judge accounts only."""
    if not (user and user.is_authenticated):
        return False
    if user.role == Role.ADMIN:
        return True
    return user.role == Role.ORGANISER and role in (Role.UNIT, Role.JUDGE)


def can_view_mail(user, message: OutboxMessage) -> bool:
    """Admins see every outbox message; organisers those to accounts they manage (unit and judge accounts): mails to
    organisers and admins carry links to accounts with more rights."""
    if not (user and user.is_authenticated):
        return False
    if user.role == Role.ADMIN:
        return True
    return message.to_user is not None and can_manage_account(user, message.to_user.role)


def can_resend_mail(user) -> bool:
    """Only admins put a failed message back in the queue."""
    return bool(user and user.is_authenticated and user.role == Role.ADMIN)
