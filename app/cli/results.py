"""`flask results`: rankings."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.cli.common import current_session, echo_json
from app.services import contests, results, scoring

results_group = AppGroup("results", help="Rankings.")


@results_group.command("show")
@click.option("--contest", "slug", required=True)
@click.option("--method", default=None, help="Aggregation (default: the round's official one).")
def results_show(slug: str, method: str | None) -> None:
    """The current round's ranking as JSON: [{rank, entry_id, title, unit, score, judges}]."""
    session = current_session()
    contest = contests.get_contest(session, slug)
    if contest is None:
        raise click.ClickException(f"no contest {slug!r}")
    current = scoring.current_round(session, contest)
    rows = results.ranking(session, current, method=method) if current else []
    echo_json(
        [
            {
                "rank": row.rank,
                "entry_id": row.entry.id,
                "title": row.entry.title,
                "unit": row.entry.unit.code,
                "score": round(row.score, 4),
                "judges": row.judges,
                "tied": row.tied,
            }
            for row in rows
        ]
    )
