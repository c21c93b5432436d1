"""The worker's commands: `worker`, `clips requeue` and `uploads sweep`, attached to the web app's command line by the
composition root (wsgi.py), since the web app imports nothing from media_worker."""

from __future__ import annotations

import json

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from app.cli.common import current_session, echo_json
from app.cli.demo import CLIP_PROCESSOR
from app.connections import queue
from app.services.clip_processing import RetryPolicy
from media_worker.jobs import process_clip
from media_worker.sweeper import requeue_stuck
from media_worker.upload_sweeper import sweep_uploads
from media_worker.worker import run_worker

# Commands the worker adds to the web app's `clips` group.
clips_commands = AppGroup("clips")
uploads_group = AppGroup("uploads", help="Resumable uploads.")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Drain the queues and exit.")
@click.option(
    "--queue",
    "queues",
    multiple=True,
    metavar="NAME",
    help="Work only this queue (repeatable): MAIL_QUEUE (mail) or RQ_QUEUE (clips). Default: every queue.",
)
@with_appcontext
def worker_command(burst: bool, queues: tuple[str, ...]) -> None:
    """Run the portal's RQ worker on every queue (mail first, then media), or only on those given with --queue."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        run_worker(app.config, burst=burst, queues=list(queues) or None, app=app)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--queue") from None


@clips_commands.command("requeue")
@click.option(
    "--stale-seconds",
    type=int,
    default=None,
    help="Re-enqueue `processing` clips without a heartbeat for this long (default CLIP_STALE_SECONDS).",
)
def clips_requeue(stale_seconds: int | None) -> None:
    """Enqueue every clip stuck in uploaded/queued, waiting to retry after an outage (at once, without waiting for its
    next attempt), or stale in processing; prints the ids."""
    stale = stale_seconds if stale_seconds is not None else current_app.config["CLIP_STALE_SECONDS"]
    policy = RetryPolicy.from_config(current_app.config)
    requeued = requeue_stuck(current_session(), queue(), stale_seconds=stale, due_only=False, policy=policy)
    echo_json({"requeued": requeued})


@uploads_group.command("sweep")
@click.option(
    "--hours", type=float, default=None, help="Abort uploads older than this (default: UPLOAD_ABANDON_HOURS)."
)
def uploads_sweep(hours: float | None) -> None:
    """Abort abandoned multipart uploads and delete their clip rows; prints what was removed as JSON."""
    click.echo(json.dumps(sweep_uploads(current_app.config, hours=hours)))


def register_worker_cli(app: Flask) -> None:
    """Attach the worker's commands to app.cli; `clips` becomes the web app's clips commands plus the worker's."""
    web_clips = app.cli.commands.get("clips")
    if not isinstance(web_clips, click.Group):
        raise RuntimeError("register the web app's commands (create_app) before the worker's")
    # A new group per app: the web app's module-level group stays as it is for apps built without the worker.
    app.cli.add_command(
        AppGroup("clips", help=web_clips.help, commands={**web_clips.commands, **clips_commands.commands})
    )
    app.cli.add_command(uploads_group)
    app.cli.add_command(worker_command)
    # `demo seed --published` processes its clips in process, through the same job function the worker runs.
    app.extensions[CLIP_PROCESSOR] = process_clip
