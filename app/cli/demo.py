"""`flask demo`: demo data."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

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
# The published demo's clips go through the job two at a time (each job runs ffmpeg; the demo targets 2-core machines).
DEMO_PROCESSES = 2


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
        _process_all(process, pending)
        with committing() as session:
            created["published"] = demo_published.judge_and_publish(session)
    echo_json(created)


def _process_all(process: Callable[[int], str], clip_ids: list[int]) -> None:
    """Run the job on each clip, in DEMO_PROCESSES forked processes (as the worker forks a work-horse per job: each
    child gets its own database engine and store client) when there are several and more than one core."""
    workers = min(DEMO_PROCESSES, len(clip_ids), os.cpu_count() or 1)
    if workers < 2:
        for clip_id in clip_ids:
            process(clip_id)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
        list(pool.map(process, clip_ids))
