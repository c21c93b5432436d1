"""`flask demo`: demo data."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app import demo_published
from app.cli.common import committing, echo_json
from app.connections import storage
from app.demo import seed

demo_group = AppGroup("demo", help="Demo data.")

# The composition root (wsgi.py, through media_worker/cli.py) registers the media pipeline's job function under this
# key: the web app imports nothing from the worker, yet `demo seed --published` processes its clips in process.
CLIP_PROCESSOR = "portal_process_clip"


@demo_group.command("seed")
@click.option(
    "--published",
    is_flag=True,
    help="Also the contest `demo-published`: 12 entries with generated clips (processed before the command returns), "
    "judged, awarded and published, with certificates.",
)
def demo_seed(published: bool) -> None:
    """Create the demo contest, units, accounts and a round (idempotent)."""
    with committing() as session:
        created = seed(session)
    if published:
        process = current_app.extensions.get(CLIP_PROCESSOR)
        if process is None:
            raise click.ClickException("--published needs the media worker: run it as `flask --app wsgi demo seed`")
        with committing() as session:
            pending = demo_published.prepare(session, storage())
        for clip_id in pending:
            process(clip_id)
        with committing() as session:
            created["published"] = demo_published.judge_and_publish(session)
    echo_json(created)
