"""Units and accounts."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app import passwords
from app.db import DbSession
from app.models import Role, Unit, UnitKind, User
from app.permissions import can_manage_account, can_set_active, require
from app.services import PortalError
from app.services.audit import add_created, record_event
from app.services.sessions import end_all_sessions

UNIT_KINDS = tuple(kind.value for kind in UnitKind)


def create_unit(
    session: DbSession,
    *,
    actor: User | None = None,
    code: str,
    name: str,
    kind: UnitKind | str = UnitKind.OTHER,
    phone: str | None = None,
) -> Unit:
    """Create a unit (audited; actor None is the operator's command line); codes are unique and case-insensitive."""
    code = code.strip().upper()
    if not code or not name.strip():
        raise PortalError(_l("Unit code and name are required."))
    if kind not in UNIT_KINDS:
        raise PortalError(_l("Unknown unit kind: %(kind)s.", kind=kind))
    if session.scalar(select(Unit).where(func.upper(Unit.code) == code)):
        raise PortalError(_l("A unit with code %(code)s already exists.", code=code), field="code")
    unit = Unit(code=code, name=name.strip(), kind=UnitKind(kind), phone=phone)
    return add_created(session, unit, actor=actor, action="unit.create", after={"code": unit.code})


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
    demo: bool = False,
) -> User:
    """Create an account (audited; actor None is the operator's command line); unit members must belong to a unit,
    judges may. Without a password the account cannot log in until its owner sets one through an invitation
    (app/services/invitations.py). `demo=True` (only `demo seed`) allows the published demo password, on
    demo-domain accounts only."""
    email = email.strip().lower()
    if role == Role.UNIT and unit is None:
        raise PortalError(_l("A unit member must belong to a unit."), field="unit")
    if password is None or (demo and passwords.is_demo_account(email) and password == passwords.DEMO_PASSWORD):
        problem = None
    else:
        problem = passwords.strength_problem(password, user_inputs=(email, name))
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
    return add_created(
        session, user, actor=actor, action="account.create", after={"email": user.email, "role": user.role.value}
    )


def authenticate(session: DbSession, *, email: str, password: str) -> User | None:
    """The active user with these credentials, or None; unknown accounts cost the same hash time as known ones.

    A hash made at an older cost is replaced by one at the current cost (the caller commits). Raises HashingBusy
    (app/passwords.py) when no hashing slot of this process comes free in time."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if not passwords.verify(user.password_hash if user else None, password) or user is None or not user.active:
        return None
    if password == passwords.DEMO_PASSWORD and not passwords.is_demo_account(user.email):
        return None  # the published demo password never opens an account outside the seeded demo data
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
    record_event(session, actor=actor, action="account.active", obj=user, after={"active": active})


def set_password(session: DbSession, *, actor: User | None = None, user: User, password: str) -> None:
    """Change or reset a password (strength-checked, audited); every session of the account ends."""
    problem = passwords.strength_problem(password, user_inputs=(user.email, user.name))
    if problem:
        raise PortalError(problem, field="password")
    user.password_hash = passwords.hash_password(password)
    end_all_sessions(session, user=user)
    record_event(session, actor=actor, action="account.password", obj=user)


def check_can_disable(session: DbSession, *, actor: User | None, user: User) -> None:
    """Nobody disables their own account, and the last active admin stays active."""
    require(can_set_active(actor, user, False), _l("You cannot disable your own account."))
    if user.role == Role.ADMIN and not _other_active_admins(session, user):
        raise PortalError(_l("The last active admin account cannot be disabled."))


class _Unchanged:
    """Marks an argument of `update_account` that was not given."""


UNCHANGED: Any = _Unchanged()


def update_account(
    session: DbSession,
    *,
    actor: User | None,
    user: User,
    name: str = UNCHANGED,
    email: str = UNCHANGED,
    unit: Unit | None = UNCHANGED,
    role: Role = UNCHANGED,
    active: bool = UNCHANGED,
) -> dict[str, tuple]:
    """Change an account's name, e-mail, unit, role or active flag within the actor's rights (audited); returns the
    changes as {field: (before, after)}. Admins manage every account, organisers unit and judge accounts only;
    nobody disables or demotes themselves or the last active admin. A new role or disabling ends its sessions."""
    new_role = user.role if role is UNCHANGED else Role(role)
    require(
        actor is None or (can_manage_account(actor, user.role) and can_manage_account(actor, new_role)),
        _l("You may not manage this account."),
    )
    wanted: dict[str, object] = {}
    if name is not UNCHANGED:
        if not name.strip():
            raise PortalError(_l("The name is required."), field="name")
        wanted["name"] = name.strip()
    if email is not UNCHANGED:
        email = email.strip().lower()
        if not email:
            raise PortalError(_l("The e-mail is required."), field="email")
        if email != user.email and session.scalar(select(User).where(User.email == email, User.id != user.id)):
            raise PortalError(_l("An account with e-mail %(email)s already exists.", email=email), field="email")
        wanted["email"] = email
    if unit is not UNCHANGED:
        wanted["unit"] = unit
    if role is not UNCHANGED:
        wanted["role"] = new_role
    if active is not UNCHANGED:
        wanted["active"] = bool(active)
    changes = {key: (getattr(user, key), value) for key, value in wanted.items() if getattr(user, key) != value}
    final_role = new_role
    final_unit = wanted.get("unit", user.unit)
    if final_role == Role.UNIT and final_unit is None:
        raise PortalError(_l("A unit member must belong to a unit."), field="unit")
    if "active" in changes and not changes["active"][1]:
        check_can_disable(session, actor=actor, user=user)
    if "role" in changes and user.role == Role.ADMIN:
        require(actor is None or actor.id != user.id, _l("You cannot take away your own admin role."))
        if user.active and not _other_active_admins(session, user):
            raise PortalError(_l("The last active admin account must stay an admin."))
    if not changes:
        return changes
    for key, (_before, after) in changes.items():
        setattr(user, key, after)
    if "role" in changes or "active" in changes and not user.active:
        end_all_sessions(session, user=user)
    record_event(
        session,
        actor=actor,
        action="account.update",
        obj=user,
        before={key: _audit_value(before) for key, (before, _after) in changes.items()},
        after={key: _audit_value(after) for key, (_before, after) in changes.items()},
    )
    return changes


def update_profile(session: DbSession, *, actor: User, name: str, locale: str) -> dict[str, tuple]:
    """A user changes their own name and language (audited)."""
    if not name.strip():
        raise PortalError(_l("The name is required."), field="name")
    if locale not in ("vi", "en"):
        raise PortalError(_l("Unknown language."), field="locale")
    changes = {
        key: (getattr(actor, key), value)
        for key, value in (("name", name.strip()), ("locale", locale))
        if getattr(actor, key) != value
    }
    if changes:
        for key, (_before, after) in changes.items():
            setattr(actor, key, after)
        record_event(
            session,
            actor=actor,
            action="account.profile",
            obj=actor,
            before={key: before for key, (before, _after) in changes.items()},
            after={key: after for key, (_before, after) in changes.items()},
        )
    return changes


def _audit_value(value: object) -> object:
    if isinstance(value, Unit):
        return value.code
    if isinstance(value, Role):
        return value.value
    return value


def _other_active_admins(session: DbSession, user: User) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.role == Role.ADMIN, User.active.is_(True), User.id != user.id)
        )
        or 0
    )


def send_reset_link(session: DbSession, *, actor: User, user: User) -> None:
    """Staff send an account they manage a one-time password reset link by mail (audited)."""
    from app.services.invitations import request_password_reset
    from app.services.notifications import link_context

    require(can_manage_account(actor, user.role), _l("You may not manage this account."))
    if not user.active:
        raise PortalError(_l("The account %(email)s is disabled.", email=user.email))
    if user.password_hash is None:
        raise PortalError(
            _l("%(email)s has not accepted the invitation yet: invite the account again.", email=user.email)
        )
    with link_context():
        request_password_reset(session, email=user.email)
    record_event(session, actor=actor, action="account.reset_link", obj=user, after={"email": user.email})
