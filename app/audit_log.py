"""The audit log as people read it: each event as a sentence in the reader's language (who, what, on which object
by name) with its changes as "before → after". The raw rows stay as they are, for the CSV export.

To make a new kind of event readable, add its sentence where the event is defined:

    from app.audit_log import register_sentence
    register_sentence("mail.send", _l("%(who)s sent a mail to %(object)s"))

A sentence gets `who` (the actor) and `object` (the object's name); it may instead be a function of the `AuditEvent`
returning such a text. An action without a sentence still reads as a sentence (see `GENERIC`), never as a code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import select

from app.db import DbSession
from app.i18n import filesize
from app.labels import LABELS
from app.models import (
    AggregationMethod,
    AuditEvent,
    Award,
    Category,
    Clip,
    Conflict,
    Contest,
    Criterion,
    Entry,
    EntryStatus,
    IntakeState,
    Role,
    Round,
    RoundStatus,
    ScoreSheet,
    SheetStatus,
    Unit,
    User,
)

Sentence: TypeAlias = LazyString | str | Callable[[AuditEvent], LazyString | str]


def _account_active(event: AuditEvent) -> LazyString:
    if (event.after or {}).get("active"):
        return _l("%(who)s enabled the account of %(object)s")
    return _l("%(who)s disabled the account of %(object)s")


def _round_status(event: AuditEvent) -> LazyString:
    status = (event.after or {}).get("status")
    if status == RoundStatus.OPEN:
        return _l("%(who)s opened the round %(object)s for scoring")
    if status == RoundStatus.CLOSED:
        return _l("%(who)s closed the round %(object)s")
    return _l("%(who)s changed the state of the round %(object)s")


def _award_grant(event: AuditEvent) -> LazyString:
    if event.after:
        return _l("%(who)s gave %(object)s an award")
    return _l("%(who)s took the award away from %(object)s")


SENTENCES: dict[str, Sentence] = {
    "contest.create": _l("%(who)s created the contest %(object)s"),
    "contest.update": _l("%(who)s changed the contest %(object)s"),
    "contest.publish": _l("%(who)s published the results of %(object)s"),
    "contest.intake_close": _l("%(who)s closed entry intake of %(object)s"),
    "contest.intake_reopen": _l("%(who)s reopened entry intake of %(object)s"),
    "entry.create": _l("%(who)s created the entry %(object)s"),
    "entry.update": _l("%(who)s edited the entry %(object)s"),
    "entry.submit": _l("%(who)s submitted the entry %(object)s"),
    "entry.withdraw": _l("%(who)s withdrew the entry %(object)s"),
    "entry.import": _l("%(who)s imported the entry %(object)s"),
    "clip.upload": _l("%(who)s uploaded the clip %(object)s"),
    "clip.replace": _l("%(who)s replaced the clip with %(object)s"),
    "round.create": _l("%(who)s created the round %(object)s"),
    "round.status": _round_status,
    "round.advance": _l("%(who)s chose the entries that go on to %(object)s"),
    "panel.set": _l("%(who)s chose the judging panel of %(object)s"),
    "assignment.generate": _l("%(who)s assigned judges to the entries of %(object)s"),
    "assignment.move": _l("%(who)s gave an assignment for %(object)s to another judge"),
    "conflict.declare": _l("%(who)s declared a conflict of interest with %(object)s"),
    "sheet.draft": _l("%(who)s saved a draft score sheet for %(object)s"),
    "sheet.submit": _l("%(who)s submitted a score sheet for %(object)s"),
    "sheet.reopen": _l("%(who)s reopened a score sheet for %(object)s"),
    "award.create": _l("%(who)s created the award %(object)s"),
    "award.grant": _award_grant,
    "award.fill": _l("%(who)s filled the awards of %(object)s from the ranking"),
    "unit.create": _l("%(who)s added the unit %(object)s"),
    "account.create": _l("%(who)s created the account %(object)s"),
    "account.active": _account_active,
    "account.password": _l("%(who)s set a new password for %(object)s"),
    "auth.login": _l("%(who)s logged in"),
    "auth.login_failed": _l("Failed login for %(object)s"),
    "auth.login_locked": _l("Logins for %(object)s were locked after repeated failures"),
}
GENERIC = _l("%(who)s made a change to %(object)s")


def register_sentence(action: str, sentence: Sentence) -> None:
    """Make an event kind readable (see the module's docstring)."""
    SENTENCES[action] = sentence


# What each changed field is called; a field not listed reads as its name with spaces.
FIELD_LABELS: dict[str, LazyString] = {
    "title": _l("title"),
    "summary": _l("summary"),
    "authors": _l("authors"),
    "category_id": _l("category"),
    "unit_id": _l("unit"),
    "unit": _l("unit"),
    "status": _l("status"),
    "points": _l("scores"),
    "comment": _l("comment"),
    "entry": _l("entry"),
    "entry_id": _l("entry"),
    "entries": _l("entries"),
    "judge": _l("judge"),
    "judges": _l("judges"),
    "round": _l("round"),
    "from": _l("from round"),
    "name": _l("name"),
    "count": _l("number of prizes"),
    "award": _l("award"),
    "grants": _l("prizes given"),
    "winners": _l("winners"),
    "slug": _l("short name"),
    "code": _l("code"),
    "email": _l("e-mail"),
    "ip": _l("address"),
    "role": _l("role"),
    "active": _l("account"),
    "filename": _l("file"),
    "clip_id": _l("clip"),
    "size": _l("size"),
    "per_entry": _l("judges per entry"),
    "seed": _l("draw number"),
    "pairs": _l("assignments"),
    "unassignable": _l("entries without enough judges"),
    "reason": _l("reason"),
    "intake": _l("entry intake"),
    "criteria": _l("criteria"),
    "opens_at": _l("opening"),
    "closes_at": _l("deadline"),
    "description": _l("description"),
    "rules_md": _l("rules"),
    "min_duration_s": _l("minimum duration (s)"),
    "max_duration_s": _l("maximum duration (s)"),
    "min_height": _l("minimum height (px)"),
    "max_entries_per_unit": _l("entries per unit"),
    "max_size_bytes": _l("largest file"),
    "timezone": _l("time zone"),
}
# Internal ids that mean nothing to a reader (the CSV export keeps them).
HIDDEN_FIELDS = {"publication"}
STATUS_VOCABULARY = {"Entry": EntryStatus, "Round": RoundStatus, "ScoreSheet": SheetStatus}
OBJECT_KINDS: dict[str, LazyString] = {
    "Contest": _l("a contest"),
    "Entry": _l("an entry"),
    "Clip": _l("a clip"),
    "Round": _l("a round"),
    "ScoreSheet": _l("an entry"),
    "Award": _l("an award"),
    "Unit": _l("a unit"),
    "User": _l("an account"),
    "Conflict": _l("an entry"),
    "Publication": _l("a publication"),
    "LoginAttempt": _l("an unknown address"),
}


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class AuditLine:
    event: AuditEvent
    at: datetime
    sentence: str
    changes: list[Change]
    contest: str | None = None


class _Names:
    """Names of everything the page's events refer to, loaded once per kind of object."""

    def __init__(self, session: DbSession, events: list[AuditEvent]) -> None:
        self.session = session
        wanted: dict[str, set[int]] = {}

        def want(kind: str, value: Any) -> None:
            if isinstance(value, int) and not isinstance(value, bool):
                wanted.setdefault(kind, set()).add(value)
            elif isinstance(value, str) and value.isdigit():
                wanted.setdefault(kind, set()).add(int(value))
            elif isinstance(value, list | tuple):
                for item in value:
                    want(kind, item)

        for e in events:
            want(e.object_type, e.object_id)
            want("User", e.actor_id)
            want("Contest", e.contest_id)
            for doc in (e.before or {}, e.after or {}):
                for key, kind in (
                    ("entry", "Entry"),
                    ("entry_id", "Entry"),
                    ("entries", "Entry"),
                    ("unassignable", "Entry"),
                    ("judge", "User"),
                    ("judges", "User"),
                    ("unit_id", "Unit"),
                    ("category_id", "Category"),
                    ("round", "Round"),
                    ("from", "Round"),
                    ("clip_id", "Clip"),
                ):
                    want(kind, doc.get(key))
                points = doc.get("points")
                if isinstance(points, dict):
                    want("Criterion", list(points))
        self.sheets = self._load(ScoreSheet, wanted.get("ScoreSheet"))
        self.clips = self._load(Clip, wanted.get("Clip"))
        self.conflicts = self._load(Conflict, wanted.get("Conflict"))
        wanted.setdefault("Entry", set()).update(
            [s.entry_id for s in self.sheets.values()]
            + [c.entry_id for c in self.clips.values()]
            + [c.entry_id for c in self.conflicts.values()]
        )
        wanted.setdefault("User", set()).update(s.judge_id for s in self.sheets.values())
        self.by_kind: dict[str, dict[int, str]] = {}
        for kind, model, attr in (
            ("Contest", Contest, "title"),
            ("Entry", Entry, "title"),
            ("Round", Round, "name"),
            ("Award", Award, "name"),
            ("Unit", Unit, "name"),
            ("User", User, "name"),
            ("Category", Category, "name"),
            ("Criterion", Criterion, "name"),
        ):
            ids = wanted.get(kind)
            if ids:
                column = getattr(model, attr)
                rows = session.execute(select(model.id, column).where(model.id.in_(ids)))
                self.by_kind[kind] = {row[0]: row[1] for row in rows}
        self.emails = {}
        if wanted.get("User"):
            self.emails = dict(session.execute(select(User.id, User.email).where(User.id.in_(wanted["User"]))).all())

    def _load(self, model, ids: set[int] | None) -> dict[int, Any]:
        if not ids:
            return {}
        return {obj.id: obj for obj in self.session.scalars(select(model).where(model.id.in_(ids)))}

    def name(self, kind: str, value: Any) -> str | None:
        try:
            key = int(value)
        except (TypeError, ValueError):
            return None
        return self.by_kind.get(kind, {}).get(key)

    def quoted(self, kind: str, value: Any) -> str | None:
        name = self.name(kind, value)
        return f"“{name}”" if name is not None else None

    def user(self, value: Any) -> str | None:
        name = self.name("User", value)
        if name is None:
            return None
        email = self.emails.get(int(value))
        return f"{name} ({email})" if email else name


def _object_name(event: AuditEvent, names: _Names) -> str:
    kind, oid, doc = event.object_type, event.object_id, {**(event.before or {}), **(event.after or {})}
    found: str | None = None
    if kind == "ScoreSheet" and oid and oid.isdigit() and int(oid) in names.sheets:
        sheet = names.sheets[int(oid)]
        found = names.quoted("Entry", sheet.entry_id)
    elif kind == "Clip" and oid and oid.isdigit() and int(oid) in names.clips:
        clip = names.clips[int(oid)]
        entry = names.quoted("Entry", clip.entry_id)
        found = str(_l("%(file)s of the entry %(entry)s", file=f"“{clip.filename}”", entry=entry or "—"))
    elif kind == "Conflict" and oid and oid.isdigit() and int(oid) in names.conflicts:
        found = names.quoted("Entry", names.conflicts[int(oid)].entry_id)
    elif kind == "User":
        found = names.user(oid)
    elif kind in names.by_kind:
        found = names.quoted(kind, oid)
    if found is None and event.action.startswith("auth.") and doc.get("email"):
        found = str(doc["email"])
    if found is None:  # the object was deleted since: its recorded name, else what kind of thing it was
        recorded = doc.get("title") or doc.get("name") or doc.get("email")
        found = f"“{recorded}”" if recorded else str(OBJECT_KINDS.get(kind, _l("an item")))
    return found


def _sentence(event: AuditEvent, names: _Names) -> str:
    text = SENTENCES.get(event.action, GENERIC)
    if callable(text) and not isinstance(text, LazyString):
        text = text(event)
    if event.actor_id is not None:
        who = names.name("User", event.actor_id) or str(_l("A deleted account"))
    elif event.action.startswith("auth."):
        who = str(_l("Someone"))
    else:
        who = str(_l("The operator (command line)"))
    sentence = str(text) % {"who": who, "object": _object_name(event, names)}
    return sentence[:1].upper() + sentence[1:]


def _value(field: str, value: Any, event: AuditEvent, names: _Names) -> str:
    """One recorded value as words: names for ids, labels for vocabularies, criteria by name."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if field == "points" and isinstance(value, Mapping):
        return "; ".join(
            f"{names.name('Criterion', cid) or _l('criterion')}: {points:g}"
            if isinstance(points, int | float)
            else f"{names.name('Criterion', cid) or _l('criterion')}: {points}"
            for cid, points in value.items()
        )
    lookups = {
        "entry": "Entry",
        "entry_id": "Entry",
        "entries": "Entry",
        "unassignable": "Entry",
        "unit_id": "Unit",
        "category_id": "Category",
        "round": "Round",
        "from": "Round",
    }
    if field in lookups:
        items = value if isinstance(value, list) else [value]
        return ", ".join(names.quoted(lookups[field], v) or str(v) for v in items)
    if field == "clip_id":
        clip = names.clips.get(value) if isinstance(value, int) else None
        return f"“{clip.filename}”" if clip is not None else "—"
    if field in ("judge", "judges"):
        items = value if isinstance(value, list) else [value]
        return ", ".join(names.name("User", v) or str(v) for v in items)
    vocabulary = {"role": Role, "intake": IntakeState, "aggregation": AggregationMethod}.get(field)
    if field == "status":
        vocabulary = STATUS_VOCABULARY.get(event.object_type)
    if vocabulary is not None and isinstance(value, str):
        try:
            return str(LABELS[vocabulary][vocabulary(value)])
        except ValueError:
            return value
    if field == "active" and isinstance(value, bool):
        return str(_l("enabled") if value else _l("disabled"))
    if field in ("size", "max_size_bytes") and isinstance(value, int):
        return filesize(value)
    if isinstance(value, bool):
        return str(_l("yes") if value else _l("no"))
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def _changes(event: AuditEvent, names: _Names) -> list[Change]:
    before, after = event.before or {}, event.after or {}
    out = []
    for field in list(dict.fromkeys([*before, *after])):
        if field in HIDDEN_FIELDS or (field == "entry" and event.object_type == "ScoreSheet"):
            continue  # a sheet's entry is already its object
        if event.object_type == "Clip" and (field == "entry_id" or (field == "clip_id" and field not in before)):
            continue  # a clip event names its file and entry already
        was = _value(field, before[field], event, names) if field in before else ""
        now = _value(field, after[field], event, names) if field in after else ""
        if {was, now} <= {"", "—"}:
            continue  # nothing to say, e.g. an empty comment
        out.append(Change(field=str(FIELD_LABELS.get(field, field.replace("_", " "))), before=was, after=now))
    return out


def readable(session: DbSession, events: Iterable[AuditEvent]) -> list[AuditLine]:
    """The events as lines to show: a sentence each and their changes, every name looked up once."""
    events = list(events)
    names = _Names(session, events)
    return [
        AuditLine(
            event=e,
            at=e.at,
            sentence=_sentence(e, names),
            changes=_changes(e, names),
            contest=names.name("Contest", e.contest_id) if e.contest_id else None,
        )
        for e in events
    ]
