"""`flask contests`: contests, created by the operator (audited with no actor)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.cli.common import committing, echo_json
from app.services import contests

contests_group = AppGroup("contests", help="Contests.")


@contests_group.command("create")
@click.argument("slug")
@click.option("--title", required=True)
@click.option("--min-duration", type=float, default=None, help="Seconds.")
@click.option("--max-duration", type=float, default=None, help="Seconds.")
@click.option("--min-height", type=int, default=None, help="Pixels (short side).")
def contests_create(
    slug: str, title: str, min_duration: float | None, max_duration: float | None, min_height: int | None
) -> None:
    """Create a contest; without dates it is open for entries now, with no deadline."""
    with committing() as session:
        contest = contests.create_contest(
            session,
            actor=None,
            slug=slug,
            title=title,
            min_duration_s=min_duration,
            max_duration_s=max_duration,
            min_height=min_height,
        )
    echo_json({"id": contest.id, "slug": contest.slug, "title": contest.title})
