"""One-time account links by mail: invitations (set a first password, 7 days) and password resets (1 hour).

Only the SHA-256 of a token is stored. A link works once: redeeming claims its row atomically, and setting the
password also retires every other open link of the account. Issuing a new link of a kind retires the older ones.
Setting the password ends every session of the account (app/services/accounts.set_password).
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import timedelta
from typing import cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import CursorResult, select, update

from app.db import DbSession
from app.models import AccountToken, Contest, MailKind, OutboxMessage, TokenPurpose, User, utcnow
from app.permissions import can_manage_account, require
from app.services import PortalError
from app.services.accounts import set_password
from app.services.audit import record_event
from app.services.mail import mail_link, mail_locale, queue_mail, render_mail

LIFETIMES = {TokenPurpose.INVITATION: timedelta(days=7), TokenPurpose.PASSWORD_RESET: timedelta(hours=1)}
# Where each kind of link leads, and the mail (templates/mail/<kind>) that carries it.
LINK_ENDPOINTS = {TokenPurpose.INVITATION: "auth.accept_invitation", TokenPurpose.PASSWORD_RESET: "auth.reset_password"}
LINK_MAILS = {TokenPurpose.INVITATION: MailKind.INVITATION, TokenPurpose.PASSWORD_RESET: MailKind.PASSWORD_RESET}


class LinkState(enum.StrEnum):
    """What a link in a mail is worth now."""

    VALID = "valid"
    EXPIRED = "expired"
    USED = "used"
    UNKNOWN = "unknown"


class LinkNotValid(PortalError):
    """The link expired, was used or replaced, or never existed."""

    def __init__(self, state: LinkState) -> None:
        super().__init__(_l("This link can no longer be used."))
        self.state = state


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def is_invitation_pending(user: User) -> bool:
    """True while an account has never had a password (invited, not yet accepted)."""
    return user.password_hash is None


def _retire_links(session: DbSession, user: User, purpose: TokenPurpose | None = None) -> None:
    query = update(AccountToken).where(AccountToken.user_id == user.id, AccountToken.used_at.is_(None))
    if purpose is not None:
        query = query.where(AccountToken.purpose == purpose)
    session.execute(query.values(used_at=utcnow()).execution_options(synchronize_session=False))


def issue_link(session: DbSession, *, user: User, purpose: TokenPurpose) -> str:
    """A new one-time token for user (older open ones of this purpose stop working); returns the token itself."""
    _retire_links(session, user, purpose)
    token = secrets.token_urlsafe(32)
    session.add(
        AccountToken(
            user_id=user.id, purpose=purpose, token_hash=_digest(token), expires_at=utcnow() + LIFETIMES[purpose]
        )
    )
    session.flush()
    return token


def _mail_link(session: DbSession, user: User, purpose: TokenPurpose, **context: object) -> OutboxMessage | None:
    """Issue a new link of this purpose for user and queue the mail that carries it, in the user's language."""
    token = issue_link(session, user=user, purpose=purpose)
    kind = LINK_MAILS[purpose]
    locale = mail_locale(user)
    link = mail_link(LINK_ENDPOINTS[purpose], token=token)
    mail = render_mail(kind.value, locale, user=user, link=link, **context)
    return queue_mail(session, to_user=user, kind=kind, locale=locale, **mail._asdict())


def _current_contest_title(session: DbSession) -> str | None:
    return session.scalar(select(Contest.title).order_by(Contest.id.desc()).limit(1))


def invite_user(session: DbSession, *, user: User, actor: User | None) -> OutboxMessage:
    """Mail user a link to set their first password (valid 7 days; audited). actor None: the command line, or the
    invitee asking for a new link. Staff may invite only accounts they manage; a set-up account gets no invitation."""
    if actor is not None and actor.id != user.id:
        require(can_manage_account(actor, user.role), _l("You cannot invite this account."))
    if not is_invitation_pending(user):
        raise PortalError(_l("%(email)s has already set a password.", email=user.email))
    if not user.active:
        raise PortalError(_l("The account %(email)s is disabled.", email=user.email))
    message = _mail_link(
        session,
        user,
        TokenPurpose.INVITATION,
        login_link=mail_link("auth.login"),
        days=LIFETIMES[TokenPurpose.INVITATION].days,
        contest_title=_current_contest_title(session),
    )
    assert message is not None  # noqa: S101 - no dedupe key: always written
    record_event(session, actor=actor, action="account.invite", obj=user, after={"email": user.email})
    return message


def request_password_reset(session: DbSession, *, email: str) -> OutboxMessage | None:
    """Mail a 1-hour reset link to the active account with this address, if there is one. The caller answers the
    same whatever happened: whether an address has an account is nobody's business."""
    user = session.scalar(select(User).where(User.email == email.strip().lower(), User.active.is_(True)))
    if user is None:
        return None
    message = _mail_link(
        session,
        user,
        TokenPurpose.PASSWORD_RESET,
        forgot_link=mail_link("auth.forgot_password"),
        minutes=int(LIFETIMES[TokenPurpose.PASSWORD_RESET].total_seconds() // 60),
    )
    record_event(session, actor=None, action="account.reset_request", obj=user)
    return message


def check_link(session: DbSession, *, token: str, purpose: TokenPurpose) -> tuple[LinkState, AccountToken | None]:
    """The state of a link and its row (None when unknown); links of inactive accounts count as used."""
    row = session.scalar(
        select(AccountToken).where(AccountToken.token_hash == _digest(token), AccountToken.purpose == purpose)
    )
    if row is None:
        return LinkState.UNKNOWN, None
    if row.used_at is not None or not row.user.active:
        return LinkState.USED, row
    if row.expires_at <= utcnow():
        return LinkState.EXPIRED, row
    return LinkState.VALID, row


def redeem_link(session: DbSession, *, token: str, purpose: TokenPurpose, password: str) -> User:
    """Set the account's password through a valid link, once: the link and every other open link of the account stop
    working, and every session of the account ends. Raises LinkNotValid, or PortalError for a weak password (the
    caller rolls back, which leaves the link usable)."""
    state, row = check_link(session, token=token, purpose=purpose)
    if state != LinkState.VALID or row is None:
        raise LinkNotValid(state)
    now = utcnow()
    claimed = cast(
        CursorResult,
        session.execute(
            update(AccountToken)
            .where(AccountToken.id == row.id, AccountToken.used_at.is_(None), AccountToken.expires_at > now)
            .values(used_at=now)
            .execution_options(synchronize_session=False),
        ),
    )
    if claimed.rowcount != 1:  # redeemed meanwhile by another request
        raise LinkNotValid(LinkState.USED)
    user = row.user
    accepted = is_invitation_pending(user)
    set_password(session, actor=user, user=user, password=password)
    _retire_links(session, user)
    if accepted:
        record_event(session, actor=user, action="account.invitation_accepted", obj=user)
    return user


def renew_invitation(session: DbSession, *, token: str) -> bool:
    """Send a fresh invitation for an expired or replaced one, while the account still has no password. Returns whether
    one was sent (the caller's answer does not say, beyond what the link's owner already knows)."""
    state, row = check_link(session, token=token, purpose=TokenPurpose.INVITATION)
    if row is None or state == LinkState.VALID or not row.user.active or not is_invitation_pending(row.user):
        return False
    invite_user(session, user=row.user, actor=None)
    return True


def pending_invitations(session: DbSession, users: list[User]) -> dict[int, AccountToken | None]:
    """For each account in users that has not accepted its invitation: its latest invitation link (None: never
    invited)."""
    pending = [u.id for u in users if is_invitation_pending(u)]
    latest: dict[int, AccountToken | None] = dict.fromkeys(pending)
    if not pending:
        return latest
    rows = session.scalars(
        select(AccountToken)
        .where(AccountToken.user_id.in_(pending), AccountToken.purpose == TokenPurpose.INVITATION)
        .order_by(AccountToken.id)
    )
    for row in rows:
        latest[row.user_id] = row
    return latest
