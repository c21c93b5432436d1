"""Unit members: their unit's entries, uploads, submission."""

from __future__ import annotations

from collections import namedtuple
from typing import cast

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import bindparam, select
from sqlalchemy.exc import DBAPIError
from wtforms import SelectChoice

from app import db
from app.auth import login_session
from app.clip_display import STATUS_LABELS, clip_status_doc
from app.committing import committing, save_form
from app.connections import enqueue_processing, storage
from app.extensions import login_manager
from app.lookups import contest_or_404
from app.models import Clip, Contest, Entry, LoginSession, Role, User
from app.permissions import can_edit_entry, has_role, is_unit_member_of, require_role
from app.services import entries as entry_service
from app.services.contests import intake_refusal, list_contests
from app.services.entries import EntryRoom
from app.services.entry_locks import entry_lock
from app.services.sessions import LIVE_SESSION

from .forms import EntryForm

bp = Blueprint("units", __name__, url_prefix="/unit")


require_role(bp, Role.UNIT)


def _own_entry(entry_id: int) -> Entry:
    """The entry, only if it belongs to the user's unit (404 otherwise: do not reveal that it exists)."""
    entry = db.session.get(Entry, entry_id)
    if entry is None or not is_unit_member_of(current_user, entry.unit_id):
        abort(404)
    return entry


@bp.route("/")
def dashboard():
    contests = list_contests(db.session)
    rows = [
        (
            contest,
            entry_service.entries_of_unit(db.session, contest=contest, unit_id=current_user.unit_id),
            entry_service.entry_room(db.session, contest=contest, unit_id=current_user.unit_id),
        )
        for contest in contests
    ]
    return render_template("units/dashboard.html", rows=rows, labels=STATUS_LABELS)


def _entry_form(contest: Contest, entry: Entry | None, room: EntryRoom | None = None):
    """The entry form: a new entry of the user's unit in `contest` (with the `room` left), or editing `entry`."""
    form = EntryForm(obj=entry)
    form.category_id.choices = [SelectChoice(0, _("— none —"))] + [
        SelectChoice(cat.id, cat.name) for cat in contest.categories
    ]
    if entry is not None and request.method == "GET":
        form.category_id.data = entry.category_id or 0

    def save() -> Entry:
        fields = dict(
            title=form.title.data,
            summary=form.summary.data,
            authors=form.authors.data,
            category_id=form.category_id.data or None,
        )
        if entry is None:
            return entry_service.create_entry(
                db.session, user=current_user, contest=contest, unit=current_user.unit, **fields
            )
        entry_service.update_entry(db.session, user=current_user, entry=entry, **fields)
        return entry

    saved = save_form(form, _("Entry created. Now upload its clip.") if entry is None else _("Changes saved."), save)
    if saved.ok:
        return redirect(url_for("units.entry", entry_id=saved.value.id))
    return render_template("units/entry_form.html", form=form, contest=contest, entry=entry, room=room)


@bp.route("/c/<slug>/entries/new", methods=["GET", "POST"])
def new_entry(slug: str):
    contest = contest_or_404(slug)
    refusal = intake_refusal(contest)
    if refusal is not None:
        flash(str(refusal), "error")
        return redirect(url_for("units.dashboard"))
    room = entry_service.entry_room(db.session, contest=contest, unit_id=current_user.unit_id)
    if room.full:  # said before the form is filled; the service checks again when the entry is created
        flash(
            _(
                "Your unit already has %(n)d entries, the most this contest allows. Drafts count too: withdraw one "
                "you no longer need to free its place.",
                n=room.used,
            ),
            "error",
        )
        return redirect(url_for("units.dashboard"))
    return _entry_form(contest, None, room)


@bp.route("/entries/<int:entry_id>")
def entry(entry_id: int):
    entry = _own_entry(entry_id)
    doc = clip_status_doc(entry.clip)
    return render_template(
        "units/entry.html",
        entry=entry,
        contest=entry.contest,
        editable=can_edit_entry(db.session, current_user, entry),
        # Why the unit cannot change it: the entry's own lock first, else the contest's intake.
        locked_because=entry_lock(db.session, entry) or intake_refusal(entry.contest),
        clip=entry.clip,
        clip_label=doc.get("label"),
        clip_reason_text=doc.get("reason"),
        clip_reasons=doc.get("reasons") or [],
        clip_detail=doc.get("detail", ""),
        max_bytes=current_app.config["MAX_CONTENT_LENGTH"],
    )


@bp.route("/entries/<int:entry_id>/edit", methods=["GET", "POST"])
def edit_entry(entry_id: int):
    entry = _own_entry(entry_id)
    if not can_edit_entry(db.session, current_user, entry):
        flash(
            str(
                entry_lock(db.session, entry)
                or intake_refusal(entry.contest)
                or _("This entry can no longer be changed.")
            ),
            "error",
        )
        return redirect(url_for("units.entry", entry_id=entry.id))
    return _entry_form(entry.contest, entry)


@bp.route("/entries/<int:entry_id>/clip", methods=["POST"])
def upload_clip(entry_id: int):
    """Plain multipart upload (streamed to S3 in constant memory); processing is queued after the commit."""
    entry = _own_entry(entry_id)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose a video file to upload."), "error")
        return redirect(url_for("units.entry", entry_id=entry.id))
    with committing() as outcome:
        clip = entry_service.store_upload(
            db.session,
            storage(),
            user=current_user,
            entry=entry,
            stream=upload.stream,
            filename=upload.filename,
            content_type=upload.mimetype,
        )
    if not outcome.ok:
        return redirect(url_for("units.entry", entry_id=entry.id))
    if enqueue_processing(clip.id):
        flash(_("The clip was uploaded and is waiting to be processed."), "success")
    else:
        flash(_("The clip was uploaded. Processing will start shortly."), "info")
    return redirect(url_for("units.entry", entry_id=entry.id))


@bp.route("/entries/<int:entry_id>/submit", methods=["POST"])
def submit(entry_id: int):
    entry = _own_entry(entry_id)
    with committing(
        _("The entry was submitted. You can still change it until the deadline, unless judging of it starts earlier.")
    ):
        entry_service.submit_entry(db.session, user=current_user, entry=entry)
    return redirect(url_for("units.entry", entry_id=entry.id))


@bp.route("/entries/<int:entry_id>/withdraw", methods=["POST"])
def withdraw(entry_id: int):
    entry = _own_entry(entry_id)
    with committing(_("The entry was withdrawn.")):
        entry_service.withdraw_entry(db.session, user=current_user, entry=entry)
    return redirect(url_for("units.entry", entry_id=entry.id))


# The status poll has a blueprint of its own, without `require_role`'s before_request: that would load the whole
# account (Flask-Login's user loader) before the view runs. The view checks the same things itself in one statement.
poll_bp = Blueprint("unit_poll", __name__, url_prefix="/unit")

# Only the columns that `clip_status_doc` reads: no probe, renditions or keys to fetch and decode.
CLIP_STATE = (
    Clip.status,
    Clip.stage,
    Clip.progress,
    Clip.reason_code,
    Clip.reason_params,
    Clip.reason,
    Clip.rejections,
    Clip.next_attempt_at,
)


# The login session's owner (checked as Flask-Login's user loader checks it), their role and unit, the entry's unit
# and its clip's state: one statement, built once.
_POLL = (
    select(User.id, User.role, User.unit_id, User.locale, Entry.unit_id.label("entry_unit_id"), *CLIP_STATE)
    .select_from(LoginSession)
    .join(User, User.id == LoginSession.user_id)
    .outerjoin(Entry, Entry.id == bindparam("entry_id"))
    .outerjoin(Clip, Clip.id == Entry.clip_id)
    .where(*LIVE_SESSION)
)


class _PollStatement:
    """`_POLL` compiled once for a dialect, run on the pooled DBAPI connection itself.

    On PostgreSQL, SQLAlchemy's execution path (cache key, execution context, the cursor's description, the result
    object, autocommit set and reset through the engine) costs more CPU than the statement's round trip: about
    0.13 ms of the poll's 0.8 ms in the app. Here the SQL text is made once, the parameters are plain values that
    psycopg adapts as SQLAlchemy would (integers, text, an aware datetime), and each column goes through its own type's
    result processor (enums, UTC datetimes), so the row reads exactly as SQLAlchemy's would. The connection comes from
    the same pool (with its pre-ping) and goes back to it in the state it came out."""

    def __init__(self, dialect) -> None:
        self.dialect = dialect
        self.sql = str(_POLL.compile(dialect=dialect))
        self.processors: list | None = None  # from the first answer's column types (the cursor's description)
        self.row_type = namedtuple("PollRow", [col.key for col in _POLL.selected_columns])  # type: ignore[misc]

    def _processors(self, description) -> list:
        """Each column's result processor for the type the database answered with, as SQLAlchemy picks it."""
        return [
            col.type.dialect_impl(self.dialect).result_processor(self.dialect, found.type_code)
            for col, found in zip(_POLL.selected_columns, description, strict=True)
        ]

    def first(self, engine, params: dict):
        fairy = engine.raw_connection()
        try:
            driver = fairy.driver_connection
            driver.autocommit = True  # one statement: no BEGIN and ROLLBACK round trips
            try:
                cursor = driver.execute(self.sql, params)
                raw = cursor.fetchone()
                if self.processors is None:
                    self.processors = self._processors(cursor.description)
            finally:
                driver.autocommit = False
        except BaseException as exc:
            fairy.invalidate()  # a broken connection must not go back to the pool
            dbapi_error = self.dialect.loaded_dbapi.Error
            if isinstance(exc, dbapi_error):  # as SQLAlchemy raises it: the 503 page's handlers know those
                raise DBAPIError.instance(self.sql, params, exc, dbapi_error, dialect=self.dialect) from exc
            raise
        finally:
            fairy.close()
        if raw is None:
            return None
        return self.row_type(
            *(value if fn is None else fn(value) for fn, value in zip(self.processors, raw, strict=True))
        )


_compiled_polls: dict[str, _PollStatement] = {}


def _poll_row(params: dict):
    """The `_POLL` row for these parameters, or None (no live session of that account)."""
    engine = db.engine()
    if engine.dialect.driver == "psycopg":
        statement = _compiled_polls.get(engine.dialect.name)
        if statement is None:
            statement = _compiled_polls[engine.dialect.name] = _PollStatement(engine.dialect)
        return statement.first(engine, params)
    # Other databases (SQLite in development and tests): SQLAlchemy's own path, same statement.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        return conn.execute(_POLL, params).first()


@poll_bp.route("/entries/<int:entry_id>/status.json")
def entry_status(entry_id: int):
    """Polled by the entry page every 2 s to show processing progress without a reload.

    One statement checks the login session, reads the account's role and unit, the entry's unit and its clip's state
    columns; no account, entry or clip is loaded. Then as on every page of the blueprint: logged out → the login
    page, not a unit member → 403, another unit's or no such entry → 404."""
    params = login_session.session_check_params()
    row = None if params is None else _poll_row({**params, "entry_id": entry_id})
    if row is None:
        return login_manager.unauthorized()
    user = login_session.SessionUser(row.id, row.role, row.unit_id, row.locale)
    # Refusals render a page with the account's name: Flask-Login loads the account for it, as on any page.
    if not has_role(user, Role.UNIT):
        abort(403)
    if row.entry_unit_id is None or not is_unit_member_of(user, row.entry_unit_id):
        abort(404)
    login_session.set_current_user(user)
    # The row has every column that clip_status_doc reads (CLIP_STATE), under the same names: no Clip to build.
    return jsonify(clip_status_doc(None if row.status is None else cast(Clip, row)))
