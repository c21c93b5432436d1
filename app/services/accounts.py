"""Units and accounts."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app import passwords
from app.db import DbSession
from app.models import Role, Unit, UnitKind, User
from app.permissions import can_set_active, require
from app.services import PortalError
from app.services.audit import record_event
from app.services.sessions import end_all_sessions

UNIT_KINDS = tuple(kind.value for kind in UnitKind)


def create_unit(
    session: DbSession, *, actor: User | None = None, code: str, name: str, kind: UnitKind | str = UnitKind.OTHER
) -> Unit:
    """Create a unit (audited; actor None is the operator's command line); codes are unique and case-insensitive."""
    code = code.strip().upper()
    if not code or not name.strip():
        raise PortalError(_l("Unit code and name are required."))
    if kind not in UNIT_KINDS:
        raise PortalError(_l("Unknown unit kind: %(kind)s.", kind=kind))
    if session.scalar(select(Unit).where(func.upper(Unit.code) == code)):
        raise PortalError(_l("A unit with code %(code)s already exists.", code=code), field="code")
    unit = Unit(code=code, name=name.strip(), kind=UnitKind(kind))
    session.add(unit)
    session.flush()
    record_event(session, actor=actor, action="unit.create", obj=unit, after={"code": unit.code})
    return unit


def create_user(
    session: DbSession,
    *,
    actor: User | None = None,
    email: str,
    name: str,
    password: str | None,
    role: Role,
    unit: Unit | None = None,
    locale: str | None = None,
) -> User:
    """Create an account (audited; actor None is the operator's command line); unit members must belong to a unit,
    judges may. Without a password the account cannot log in until its owner sets one through an invitation
    (app/services/invitations.py)."""
    email = email.strip().lower()
    if role == Role.UNIT and unit is None:
        raise PortalError(_l("A unit member must belong to a unit."), field="unit")
    problem = passwords.strength_problem(password, user_inputs=(email, name)) if password is not None else None
    if problem:
        raise PortalError(problem, field="password")
    if session.scalar(select(User).where(User.email == email)):
        raise PortalError(_l("An account with e-mail %(email)s already exists.", email=email), field="email")
    user = User(
        email=email,
        name=name.strip(),
        password_hash=passwords.hash_password(password) if password is not None else None,
        role=role,
        unit=unit,
        locale=locale,
    )
    session.add(user)
    session.flush()
    record_event(
        session, actor=actor, action="account.create", obj=user, after={"email": user.email, "role": user.role.value}
    )
    return user


def authenticate(session: DbSession, *, email: str, password: str) -> User | None:
    """The active user with these credentials, or None; unknown accounts cost the same hash time as known ones.

    A hash made at an older cost is replaced by one at the current cost (the caller commits)."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if not passwords.verify(user.password_hash if user else None, password) or user is None or not user.active:
        return None
    if user.password_hash and passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
        session.flush()
    return user


def set_active(session: DbSession, *, actor: User | None, user: User, active: bool) -> None:
    """Enable or disable an account (audited); nobody may disable their own or the last active admin. Disabling ends
    the account's sessions everywhere."""
    if not active:
        check_can_disable(session, actor=actor, user=user)
    user.active = active
    if not active:
        end_all_sessions(session, user=user)
    session.flush()
    record_event(session, actor=actor, action="account.active", obj=user, after={"active": active})


def set_password(session: DbSession, *, actor: User | None = None, user: User, password: str) -> None:
    """Change or reset a password (strength-checked, audited); every session of the account ends."""
    problem = passwords.strength_problem(password, user_inputs=(user.email, user.name))
    if problem:
        raise PortalError(problem, field="password")
    user.password_hash = passwords.hash_password(password)
    end_all_sessions(session, user=user)
    session.flush()
    record_event(session, actor=actor, action="account.password", obj=user)


def check_can_disable(session: DbSession, *, actor: User | None, user: User) -> None:
    """Nobody disables their own account, and the last active admin stays active."""
    require(can_set_active(actor, user, False), _l("You cannot disable your own account."))
    if user.role == Role.ADMIN:
        others = session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.role == Role.ADMIN, User.active.is_(True), User.id != user.id)
        )
        if not others:
            raise PortalError(_l("The last active admin account cannot be disabled."))
