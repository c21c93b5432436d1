"""Command line for organisers and operators: `flask --app wsgi ...`. JSON where scripts read the output."""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path

import click
from flask import Flask, current_app
from flask_babel import force_locale
from sqlalchemy import select

from app import db
from app.models import Clip, Entry, EntryStatus, Role, Unit, User
from app.services import PortalError, accounts, scoring
from app.services import contests as contest_service
from app.services import entries as entry_service
from app.services import results as result_service


def _fail(exc: Exception) -> None:
    db.session.rollback()
    raise click.ClickException(str(exc))


def _echo_json(doc) -> None:
    click.echo(json.dumps(doc, ensure_ascii=False, indent=2, default=str))


def register_cli(app: Flask) -> None:
    """Attach every command group to app.cli."""

    @app.cli.group("db", help="Database schema (Alembic migrations).")
    def db_group():
        pass

    @db_group.command("upgrade")
    @click.argument("revision", default="head")
    def db_upgrade(revision: str):
        """Apply migrations up to REVISION (default: head)."""
        from alembic import command

        command.upgrade(_alembic_config(), revision)

    @db_group.command("downgrade")
    @click.argument("revision")
    def db_downgrade(revision: str):
        """Revert migrations down to REVISION."""
        from alembic import command

        command.downgrade(_alembic_config(), revision)

    @app.cli.group("storage", help="Object storage.")
    def storage_group():
        pass

    @storage_group.command("init")
    def storage_init():
        """Create the bucket when it does not exist (idempotent); prints the endpoint and bucket."""
        from app.connections import storage

        store = storage()
        store.ensure_bucket()
        _echo_json({"endpoint": current_app.config["S3_ENDPOINT_URL"], "bucket": store.bucket})

    @app.cli.group("demo", help="Demo data.")
    def demo_group():
        pass

    @demo_group.command("seed")
    def demo_seed():
        """Create the demo contest, units, accounts and a round (idempotent)."""
        from app.demo import seed

        with force_locale("en"):
            created = seed(db.session)
            db.session.commit()
        _echo_json(created)

    @app.cli.group("units", help="Units (departments, wards, associations, schools).")
    def units_group():
        pass

    @units_group.command("add")
    @click.argument("code")
    @click.option("--name", required=True)
    @click.option("--kind", default="other", show_default=True, type=click.Choice(accounts.UNIT_KINDS))
    def units_add(code: str, name: str, kind: str):
        """Add a unit; prints its JSON."""
        with force_locale("en"):
            try:
                unit = accounts.create_unit(db.session, code=code, name=name, kind=kind)
                db.session.commit()
            except PortalError as exc:
                _fail(exc)
        _echo_json({"id": unit.id, "code": unit.code, "name": unit.name, "kind": unit.kind})

    @app.cli.group("users", help="Accounts.")
    def users_group():
        pass

    @users_group.command("add")
    @click.argument("email")
    @click.option("--name", required=True)
    @click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
    @click.option("--unit", "unit_code", default=None, help="Unit code (required for unit members).")
    @click.password_option("--password", confirmation_prompt=False)
    def users_add(email: str, name: str, role: str, unit_code: str | None, password: str):
        """Add an account; prints its JSON."""
        with force_locale("en"):
            unit = _unit(unit_code) if unit_code else None
            try:
                user = accounts.create_user(
                    db.session, email=email, name=name, password=password, role=Role(role), unit=unit
                )
                db.session.commit()
            except PortalError as exc:
                _fail(exc)
        _echo_json({"id": user.id, "email": user.email, "role": user.role.value})

    @users_group.command("set-password")
    @click.argument("email")
    @click.password_option("--password", confirmation_prompt=False)
    def users_set_password(email: str, password: str):
        """Reset an account's password: ends its sessions everywhere and clears its login lock; prints its JSON."""
        from app.auth.throttle import clear_account_lock

        with force_locale("en"):
            user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
            if user is None:
                raise click.ClickException(f"no account {email!r}")
            try:
                accounts.set_password(db.session, user=user, password=password)
                db.session.commit()
            except PortalError as exc:
                _fail(exc)
            clear_account_lock(user.email)
        _echo_json({"id": user.id, "email": user.email, "sessions_ended": True})

    @app.cli.group("contests", help="Contests.")
    def contests_group():
        pass

    @contests_group.command("create")
    @click.argument("slug")
    @click.option("--title", required=True)
    @click.option("--min-duration", type=float, default=None, help="Seconds.")
    @click.option("--max-duration", type=float, default=None, help="Seconds.")
    @click.option("--min-height", type=int, default=None, help="Pixels (short side).")
    def contests_create(slug, title, min_duration, max_duration, min_height):
        """Create a contest; without dates it is open for entries now, with no deadline."""
        with force_locale("en"):
            try:
                contest = contest_service.create_contest(
                    db.session,
                    slug=slug,
                    title=title,
                    min_duration_s=min_duration,
                    max_duration_s=max_duration,
                    min_height=min_height,
                )
                db.session.commit()
            except PortalError as exc:
                _fail(exc)
        _echo_json({"id": contest.id, "slug": contest.slug, "title": contest.title})

    @app.cli.group("clips", help="Clips and their processing.")
    def clips_group():
        pass

    @clips_group.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--contest", "slug", required=True)
    @click.option("--unit", "unit_code", required=True)
    @click.option("--title", required=True)
    def clips_import(file: Path, slug: str, unit_code: str, title: str):
        """Import a clip for a unit as a submitted entry (same path as a web upload); prints entry and clip ids."""
        from app.connections import enqueue_processing, storage

        with force_locale("en"):
            contest = contest_service.get_contest(db.session, slug)
            if contest is None:
                raise click.ClickException(f"no contest {slug!r}")
            unit = _unit(unit_code)
            try:
                entry_service.check_upload_name(file.name)
                entry = Entry(contest_id=contest.id, unit_id=unit.id, title=title.strip(), status=EntryStatus.SUBMITTED)
                db.session.add(entry)
                db.session.flush()
                with file.open("rb") as fh:
                    clip = entry_service.store_upload(
                        db.session,
                        storage(),
                        user=None,
                        entry=entry,
                        stream=fh,
                        filename=file.name,
                        content_type=mimetypes.guess_type(file.name)[0],
                        check_rights=False,
                    )
                entry.submitted_at = clip.created_at
                db.session.commit()
            except PortalError as exc:
                _fail(exc)
            enqueue_processing(clip.id)
        _echo_json({"entry_id": entry.id, "clip_id": clip.id})

    @clips_group.command("show")
    @click.argument("clip_id", type=int)
    def clips_show(clip_id: int):
        """A clip's processing state and outputs, as JSON."""
        clip = db.session.get(Clip, clip_id)
        if clip is None:
            raise click.ClickException(f"no clip {clip_id}")
        _echo_json(clip_doc(clip))

    @clips_group.command("requeue")
    @click.option(
        "--stale-seconds",
        type=int,
        default=None,
        help="Re-enqueue `processing` clips without a heartbeat for this long (default CLIP_STALE_SECONDS).",
    )
    def clips_requeue(stale_seconds: int | None):
        """Enqueue every clip stuck in uploaded/queued, or stale in processing; prints the ids."""
        from app.connections import queue
        from media_worker.sweeper import requeue_stuck

        stale = stale_seconds if stale_seconds is not None else current_app.config["CLIP_STALE_SECONDS"]
        _echo_json({"requeued": requeue_stuck(db.session, queue(), stale_seconds=stale)})

    @app.cli.command("worker")
    @click.option("--burst", is_flag=True, help="Drain the queue and exit.")
    def worker(burst: bool):
        """Run the portal's RQ worker on the media queue."""
        from media_worker.worker import run_worker

        run_worker(current_app.config, burst=burst)

    @app.cli.group("results", help="Rankings.")
    def results_group():
        pass

    @results_group.command("show")
    @click.option("--contest", "slug", required=True)
    @click.option("--method", default=None, help="Aggregation (default: the round's official one).")
    def results_show(slug: str, method: str | None):
        """The current round's ranking as JSON: [{rank, entry_id, title, unit, score, judges}]."""
        contest = contest_service.get_contest(db.session, slug)
        if contest is None:
            raise click.ClickException(f"no contest {slug!r}")
        rnd = scoring.current_round(db.session, contest)
        rows = result_service.ranking(db.session, rnd, method=method) if rnd else []
        _echo_json(
            [
                {
                    "rank": r.rank,
                    "entry_id": r.entry.id,
                    "title": r.entry.title,
                    "unit": r.entry.unit.code,
                    "score": round(r.score, 4),
                    "judges": r.judges,
                    "tied": r.tied,
                }
                for r in rows
            ]
        )


def _unit(code: str) -> Unit:
    unit = db.session.scalar(select(Unit).where(Unit.code == code.strip().upper()))
    if unit is None:
        raise click.ClickException(f"no unit {code!r}")
    return unit


def clip_doc(clip: Clip) -> dict:
    """The JSON shape of `clips show` (English reason)."""
    return {
        "id": clip.id,
        "entry_id": clip.entry_id,
        "status": clip.status.value,
        "reason": clip.reason,
        "reason_code": clip.reason_code,
        "duration_s": clip.duration_s,
        "width": clip.width,
        "height": clip.height,
        "original_key": clip.original_key,
        "size_bytes": clip.size_bytes,
        "sha256": clip.sha256,
        "renditions": [
            {k: r.get(k) for k in ("name", "key", "width", "height", "bitrate")} for r in clip.renditions or []
        ],
        "poster_key": clip.poster_key,
        "poster_small_key": clip.poster_small_key,
        "storyboard_key": clip.storyboard_key,
        "storyboard_vtt_key": clip.storyboard_vtt_key,
        "progress": clip.progress,
        "stage": clip.stage,
        "attempts": clip.attempts,
    }


def _alembic_config():
    from alembic.config import Config as AlembicConfig

    root = Path(__file__).resolve().parent.parent
    cfg = AlembicConfig(str(root / "alembic.ini"))
    cfg.set_main_option("script_location", str(root / "migrations"))
    cfg.set_main_option("sqlalchemy.url", current_app.config["DATABASE_URL"].replace("%", "%%"))
    return cfg
