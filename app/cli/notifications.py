"""`flask reminders`: the scheduled reminders, run once by hand or from cron (the workers run them periodically too)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli.common import echo_json
from app.notification_jobs import parse_now, send_reminders

reminders_group = AppGroup("reminders", help="Deadline and scoring reminders by mail.")


@reminders_group.command("send")
@click.option(
    "--now", default=None, metavar="ISO_TIME", help="Act as if it were this time (UTC unless a zone is given)."
)
def reminders_send(now: str | None) -> None:
    """Write every reminder due now; each goes out once however often this runs. Prints the counts as JSON."""
    try:
        when = parse_now(now)
    except ValueError:
        raise click.BadParameter("use an ISO time such as 2026-12-20T08:00", param_hint="--now") from None
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    echo_json(send_reminders(when, app=app))
