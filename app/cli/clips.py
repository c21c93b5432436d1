"""`flask clips`: importing a clip and showing its processing state (`clips requeue` is the worker's, in
media_worker/cli.py)."""

from __future__ import annotations

import mimetypes
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup

from app.cli.common import committing, current_session, echo_json, unit_by_code
from app.connections import enqueue_processing, storage
from app.models import Clip, ClipStatus
from app.services import contests, entries

clips_group = AppGroup("clips", help="Clips and their processing.")


@clips_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--contest", "slug", required=True)
@click.option("--unit", "unit_code", required=True)
@click.option("--title", required=True)
def clips_import(file: Path, slug: str, unit_code: str, title: str) -> None:
    """Import a clip for a unit as a submitted entry (same path as a web upload); prints entry and clip ids."""
    with committing() as session:
        contest = contests.get_contest(session, slug)
        if contest is None:
            raise click.ClickException(f"no contest {slug!r}")
        unit = unit_by_code(session, unit_code)
        with file.open("rb") as stream:
            clip = entries.import_clip(
                session,
                storage(),
                actor=None,
                contest=contest,
                unit=unit,
                title=title,
                stream=stream,
                filename=file.name,
                content_type=mimetypes.guess_type(file.name)[0],
            )
    enqueue_processing(clip.id)
    echo_json({"entry_id": clip.entry_id, "clip_id": clip.id})


@clips_group.command("show")
@click.argument("clip_id", type=int)
def clips_show(clip_id: int) -> None:
    """A clip's processing state and outputs, as JSON."""
    clip = current_session().get(Clip, clip_id)
    if clip is None:
        raise click.ClickException(f"no clip {clip_id}")
    echo_json(clip_doc(clip))


def clip_doc(clip: Clip) -> dict[str, Any]:
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
        # While retrying after an infrastructure error (stage "retrying"): when the next try is due, UTC.
        "next_attempt_at": _iso_utc(clip.next_attempt_at),
        # For failed clips: the id the worker logged with the failure.
        "error_id": clip.error_id if clip.status == ClipStatus.FAILED else None,
    }


def _iso_utc(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None
