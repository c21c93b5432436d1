"""Notifications and reminders by mail, written to the outbox (app/services/mail.py) in each recipient's language.

- Units: a receipt when an entry is submitted; the clip ready or rejected (with the translated reason); deadline
  reminders 3 days and 1 day before the deadline, only to units with an unsubmitted draft or with no entry at all.
- Judges: a round opened with entries assigned to them; reminders 48 h and 24 h before the round closes, to judges
  with unsubmitted sheets.
- Organisers: `send_participation_reminders` to the units that have not taken part (not twice within 24 h unless the
  organiser confirms again).

Every notification can be switched off per contest (`set_notifications`); invitations and password resets are
mandatory. Each message carries a dedupe key (kind, contest or round, occasion, recipient): the outbox's unique
constraint makes it go out exactly once, whichever worker or request writes it first. Scheduled reminders run from
`send_due_reminders(session, now=...)`, which every worker calls periodically.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_request_context
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from app.clip_reasons import reason_text
from app.db import DbSession
from app.models import (
    Clip,
    ClipStatus,
    Contest,
    ContestNotificationOff,
    Entry,
    EntryStatus,
    MailKind,
    OutboxMessage,
    PanelMember,
    Role,
    Round,
    RoundStatus,
    Unit,
    User,
    utcnow,
)
from app.permissions import is_staff, require
from app.services import PortalError
from app.services.audit import record_event
from app.services.mail import mail_link, mail_locale, queue_mail, render_mail

log = logging.getLogger(__name__)

# The notifications an organiser may switch off for a contest, in the order the settings page lists them.
SWITCHABLE = (
    MailKind.ENTRY_RECEIPT,
    MailKind.CLIP_READY,
    MailKind.CLIP_REJECTED,
    MailKind.DEADLINE_REMINDER,
    MailKind.ROUND_OPENED,
    MailKind.ROUND_REMINDER,
)
# Always sent (the account cannot be used without them).
MANDATORY = (MailKind.INVITATION, MailKind.PASSWORD_RESET)
DEADLINE_OCCASIONS = (("1d", timedelta(days=1)), ("3d", timedelta(days=3)))
ROUND_OCCASIONS = (("24h", timedelta(hours=24)), ("48h", timedelta(hours=48)))
REMINDER_PAUSE = timedelta(hours=24)


# ---------------------------------------------------------------------------------------------------- settings


def is_enabled(session: DbSession, contest_id: int, kind: MailKind) -> bool:
    """Whether the contest sends this notification (mandatory mails always; others unless switched off)."""
    if kind not in SWITCHABLE:
        return True
    return session.get(ContestNotificationOff, (contest_id, kind)) is None


def enabled_kinds(session: DbSession, contest: Contest) -> set[MailKind]:
    off = set(
        session.scalars(select(ContestNotificationOff.kind).where(ContestNotificationOff.contest_id == contest.id))
    )
    return {kind for kind in SWITCHABLE if kind not in off}


def set_notifications(session: DbSession, *, actor: User | None, contest: Contest, enabled: Iterable[str]) -> None:
    """Switch the contest's notifications on (those in `enabled`) and off (the others); staff only, audited."""
    require(actor is None or is_staff(actor), _l("Only organisers may change the contest's notifications."))
    wanted = {MailKind(kind) for kind in enabled}
    if not wanted <= set(SWITCHABLE):
        raise PortalError(_l("This notification cannot be switched off."))
    before = enabled_kinds(session, contest)
    if before == wanted:
        return
    session.execute(delete(ContestNotificationOff).where(ContestNotificationOff.contest_id == contest.id))
    session.add_all(
        ContestNotificationOff(contest_id=contest.id, kind=kind) for kind in SWITCHABLE if kind not in wanted
    )
    record_event(
        session,
        actor=actor,
        action="contest.notifications",
        obj=contest,
        before={"enabled": sorted(before)},
        after={"enabled": sorted(wanted)},
    )


# ---------------------------------------------------------------------------------------------------- writing


@contextlib.contextmanager
def link_context() -> Iterator[None]:
    """Links need a request context to be built; jobs and the CLI have none, so lend them one under PUBLIC_URL."""
    if has_request_context():
        yield
        return
    base = current_app.config.get("PUBLIC_URL") or "http://localhost/"
    with current_app.test_request_context("/", base_url=base):
        yield


def _send(
    session: DbSession,
    *,
    user: User,
    kind: MailKind,
    contest: Contest,
    dedupe_key: str | None,
    template: str | None = None,
    **context: Any,
) -> OutboxMessage | None:
    """Render templates/mail/<template> (default: the kind's name) in the user's language and queue it."""
    locale = mail_locale(user)
    with link_context(), force_locale(locale):
        context = {key: (value() if callable(value) else value) for key, value in context.items()}
        mail = render_mail(
            template or kind.value, locale, user=user, contest=contest, contest_title=contest.title, **context
        )
    return queue_mail(
        session, to_user=user, kind=kind, locale=locale, contest_id=contest.id, dedupe_key=dedupe_key, **mail._asdict()
    )


def _send_each(
    session: DbSession, users: Iterable[User], *, kind: MailKind, contest: Contest, key_prefix: str, **context: Any
) -> int:
    """Mail each user (dedupe key: key_prefix + their id); returns the messages written (a used key writes none)."""
    written = 0
    for user in users:
        message = _send(session, user=user, kind=kind, contest=contest, dedupe_key=f"{key_prefix}{user.id}", **context)
        written += message is not None
    return written


def unit_members(session: DbSession, unit_id: int) -> list[User]:
    """The active accounts of a unit."""
    return list(
        session.scalars(
            select(User).where(User.unit_id == unit_id, User.role == Role.UNIT, User.active.is_(True)).order_by(User.id)
        )
    )


def _keys_written(session: DbSession, keys: Iterable[str]) -> set[str]:
    """Those of the dedupe keys that are already in the outbox (looked up through its unique index): a periodic run
    renders no mail twice. The unique constraint still decides when two runs race."""
    wanted = list(keys)
    found: set[str] = set()
    for i in range(0, len(wanted), 500):
        chunk = wanted[i : i + 500]
        found.update(
            k for k in session.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(chunk))) if k
        )
    return found


def _stamp(value: datetime | None) -> str:
    return value.strftime("%Y%m%dT%H%M%S") if value else "none"


# ---------------------------------------------------------------------------------------------------- units


def _send_to_unit(session: DbSession, *, entry: Entry, kind: MailKind, key_prefix: str, **context: Any) -> int:
    """Mail each member of the entry's unit about it, with a link to the entry; returns the messages written."""
    members = unit_members(session, entry.unit_id)
    link = lambda: mail_link("units.entry", entry_id=entry.id)  # noqa: E731 - built in each recipient's link context
    return _send_each(
        session, members, kind=kind, contest=entry.contest, key_prefix=key_prefix, entry=entry, link=link, **context
    )


def notify_entry_submitted(session: DbSession, *, entry: Entry) -> int:
    """The receipt of a submitted entry to every member of its unit; returns the messages written."""
    if not is_enabled(session, entry.contest_id, MailKind.ENTRY_RECEIPT):
        return 0
    key_prefix = f"entry_receipt:{entry.id}:{_stamp(entry.submitted_at)}:"
    return _send_to_unit(session, entry=entry, kind=MailKind.ENTRY_RECEIPT, key_prefix=key_prefix)


def notify_clip_outcome(session: DbSession, *, clip: Clip) -> int:
    """Tell the unit its current clip is ready or was rejected (with the reason in their language)."""
    if clip.status not in (ClipStatus.READY, ClipStatus.REJECTED):
        return 0
    entry = clip.entry
    if entry.clip_id != clip.id or entry.status not in (EntryStatus.DRAFT, EntryStatus.SUBMITTED):
        return 0
    kind = MailKind.CLIP_READY if clip.status == ClipStatus.READY else MailKind.CLIP_REJECTED
    if not is_enabled(session, entry.contest_id, kind):
        return 0
    return _send_to_unit(
        session,
        entry=entry,
        kind=kind,
        key_prefix=f"{kind.value}:{clip.id}:",
        clip=clip,
        reason=lambda: reason_text(clip.reason_code, clip.reason_params) or clip.reason or "",  # in each one's language
    )


def units_needing_deadline_reminder(session: DbSession, contest: Contest) -> list[Unit]:
    """Units with an unsubmitted draft in the contest, or with no entry at all (withdrawn ones do not count)."""
    with_draft = select(Entry.unit_id).where(Entry.contest_id == contest.id, Entry.status == EntryStatus.DRAFT)
    with_entry = select(Entry.unit_id).where(
        Entry.contest_id == contest.id, Entry.status.in_((EntryStatus.DRAFT, EntryStatus.SUBMITTED))
    )
    return list(
        session.scalars(select(Unit).where(Unit.id.in_(with_draft) | Unit.id.not_in(with_entry)).order_by(Unit.code))
    )


def _occasion(left: timedelta, occasions) -> str | None:
    """The nearest reminder occasion that is due (1 day before 3 days): only that one is sent."""
    for name, before in occasions:
        if timedelta(0) < left <= before:
            return name
    return None


def send_deadline_reminders(session: DbSession, *, now: datetime) -> int:
    """Deadline reminders due at `now`; each (contest, deadline, occasion, recipient) once. Returns messages written."""
    written = 0
    contests = session.scalars(
        select(Contest).where(
            Contest.closes_at.is_not(None),
            Contest.closes_at > now,
            Contest.published_at.is_(None),
            (Contest.opens_at.is_(None)) | (Contest.opens_at <= now),
        )
    )
    for contest in list(contests):
        occasion = _occasion(contest.closes_at - now, DEADLINE_OCCASIONS) if contest.closes_at else None
        if occasion is None or not is_enabled(session, contest.id, MailKind.DEADLINE_REMINDER):
            continue
        prefix = f"deadline_reminder:{contest.id}:{_stamp(contest.closes_at)}:{occasion}:"
        recipients = [
            (unit, unit_members(session, unit.id)) for unit in units_needing_deadline_reminder(session, contest)
        ]
        done = _keys_written(session, (f"{prefix}{user.id}" for _unit, users in recipients for user in users))
        for unit, users in recipients:
            members = [user for user in users if f"{prefix}{user.id}" not in done]
            if not members:
                continue
            drafts = session.scalar(
                select(func.count())
                .select_from(Entry)
                .where(Entry.contest_id == contest.id, Entry.unit_id == unit.id, Entry.status == EntryStatus.DRAFT)
            )
            written += _send_each(
                session,
                members,
                kind=MailKind.DEADLINE_REMINDER,
                contest=contest,
                key_prefix=prefix,
                occasion=occasion,
                drafts=drafts or 0,
                link=lambda: mail_link("units.dashboard"),
            )
    return written


# ---------------------------------------------------------------------------------------------------- judges


def _panel(session: DbSession, rnd: Round) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(PanelMember, PanelMember.judge_id == User.id)
            .where(PanelMember.round_id == rnd.id, User.active.is_(True), User.role == Role.JUDGE)
            .order_by(User.id)
        )
    )


def notify_round_opened(session: DbSession, *, rnd: Round) -> int:
    """Tell each panel judge with entries assigned in the round: how many, until when, where."""
    from app.services.scoring import assigned_entries

    contest = rnd.contest
    if not is_enabled(session, contest.id, MailKind.ROUND_OPENED):
        return 0
    written = 0
    for judge in _panel(session, rnd):
        count = len(assigned_entries(session, judge=judge, rnd=rnd))
        if not count:
            continue
        message = _send(
            session,
            user=judge,
            kind=MailKind.ROUND_OPENED,
            contest=contest,
            dedupe_key=f"round_opened:{rnd.id}:{judge.id}",
            rnd=rnd,
            count=count,
            link=lambda: mail_link("judges.dashboard"),
        )
        written += message is not None
    return written


def send_round_reminders(session: DbSession, *, now: datetime) -> int:
    """Reminders 48 h and 24 h before an open round closes, to judges with unsubmitted sheets; each once."""
    from app.services.scoring import judge_progress

    written = 0
    rounds = session.scalars(
        select(Round).where(Round.status == RoundStatus.OPEN, Round.closes_at.is_not(None), Round.closes_at > now)
    )
    for rnd in list(rounds):
        occasion = _occasion(rnd.closes_at - now, ROUND_OCCASIONS) if rnd.closes_at else None
        if occasion is None or not is_enabled(session, rnd.contest_id, MailKind.ROUND_REMINDER):
            continue
        prefix = f"round_reminder:{rnd.id}:{_stamp(rnd.closes_at)}:{occasion}:"
        panel = _panel(session, rnd)
        done = _keys_written(session, (f"{prefix}{judge.id}" for judge in panel))
        for judge in panel:
            if f"{prefix}{judge.id}" in done:
                continue
            progress = judge_progress(session, judge=judge, rnd=rnd)
            pending = progress.total - progress.submitted
            if pending <= 0:
                continue
            message = _send(
                session,
                user=judge,
                kind=MailKind.ROUND_REMINDER,
                contest=rnd.contest,
                dedupe_key=f"{prefix}{judge.id}",
                rnd=rnd,
                occasion=occasion,
                pending=pending,
                total=progress.total,
                link=lambda: mail_link("judges.dashboard"),
            )
            written += message is not None
    return written


def send_due_reminders(session: DbSession, *, now: datetime | None = None) -> dict[str, int]:
    """Every scheduled reminder due at `now` (default: the current time); safe to run from several workers at once."""
    now = now or utcnow()
    return {
        "deadline_reminders": send_deadline_reminders(session, now=now),
        "round_reminders": send_round_reminders(session, now=now),
    }


# ---------------------------------------------------------------------------------------------------- organisers


@dataclass(frozen=True)
class ReminderTarget:
    unit: Unit
    members: list[User]
    reminded_at: datetime | None  # the last participation reminder within 24 h, if any

    @property
    def recent(self) -> bool:
        return self.reminded_at is not None


def participation_reminder_targets(session: DbSession, *, contest: Contest, now: datetime) -> list[ReminderTarget]:
    """The units that have not taken part (no submitted entry), each with its accounts and a reminder in the last
    24 h if there was one."""
    from app.services.entries import participation

    targets = []
    for row in participation(session, contest=contest):
        if row.took_part:
            continue
        members = unit_members(session, row.unit.id)
        last = None
        if members:
            last = session.scalar(
                select(func.max(OutboxMessage.created_at)).where(
                    OutboxMessage.kind == MailKind.PARTICIPATION_REMINDER,
                    OutboxMessage.contest_id == contest.id,
                    OutboxMessage.to_user_id.in_([m.id for m in members]),
                    OutboxMessage.created_at > now - REMINDER_PAUSE,
                )
            )
        targets.append(ReminderTarget(unit=row.unit, members=members, reminded_at=last))
    return targets


def _reminders_written(session: DbSession, contest: Contest, user: User) -> int:
    """How many participation reminders of contest the outbox holds for user."""
    count = session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.kind == MailKind.PARTICIPATION_REMINDER,
            OutboxMessage.contest_id == contest.id,
            OutboxMessage.to_user_id == user.id,
        )
    )
    return count or 0


def send_participation_reminders(
    session: DbSession, *, actor: User, contest: Contest, now: datetime, include_recent: bool = False
) -> dict[str, int]:
    """Remind the units that have not taken part (audited). Units reminded within 24 h are left out unless
    `include_recent` (the organiser confirmed again). Returns {"units": n, "messages": n, "skipped": n}."""
    require(is_staff(actor), _l("Only organisers may send reminders."))
    link = lambda: mail_link("units.dashboard")  # noqa: E731 - built in each recipient's link context
    units = messages = skipped = 0
    for target in participation_reminder_targets(session, contest=contest, now=now):
        if not target.members or (target.recent and not include_recent):
            skipped += 1
            continue
        units += 1
        for user in target.members:
            # The n-th reminder of this user: a form sent twice at once (double click) writes it only once.
            key = f"participation_reminder:{contest.id}:{user.id}:{_reminders_written(session, contest, user) + 1}"
            message = _send(
                session, user=user, kind=MailKind.PARTICIPATION_REMINDER, contest=contest, dedupe_key=key, link=link
            )
            messages += message is not None
    result = {"units": units, "messages": messages, "skipped": skipped}
    record_event(
        session,
        actor=actor,
        action="contest.participation_reminder",
        obj=contest,
        after={**result, "include_recent": include_recent},
    )
    session.flush()
    return result


def preview_participation_reminder(session: DbSession, *, contest: Contest, user: User) -> tuple[str, str]:
    """(subject, text) of the reminder as `user` would get it (for the organiser's preview)."""
    locale = mail_locale(user)
    with link_context(), force_locale(locale):
        subject, text, _html = render_mail(
            MailKind.PARTICIPATION_REMINDER.value,
            locale,
            user=user,
            contest=contest,
            contest_title=contest.title,
            link=mail_link("units.dashboard"),
        )
    return subject, text


# ---------------------------------------------------------------------------------------------------- organisers


def notify_clip_failed(session: DbSession, *, clip: Clip) -> int:
    """Tell every active organiser and admin that a clip failed for good (not the file's fault): its entry, unit and
    the error id to look for in the worker logs. Not switchable: someone must act on it. Once per clip and error id."""
    entry = clip.entry
    if clip.status != ClipStatus.FAILED or entry is None:
        return 0
    contest = entry.contest
    staff = session.scalars(
        select(User).where(User.role.in_((Role.ORGANISER, Role.ADMIN)), User.active.is_(True)).order_by(User.id)
    )
    return _send_each(
        session,
        staff,
        kind=MailKind.OTHER,
        template="clip_failed",
        contest=contest,
        key_prefix=f"clip_failed:{clip.id}:{clip.error_id}:",
        entry=entry,
        clip=clip,
        link=lambda: mail_link("organisers.contest", slug=contest.slug),
    )
