"""Command line for organisers and operators: `flask --app wsgi ...`. JSON where scripts read the output.

One `AppGroup` per area, each in its own module. The worker's commands (`worker`, `clips requeue`, `uploads sweep`)
live in media_worker/cli.py and are attached by the composition root, wsgi.py.
"""

from __future__ import annotations

from flask import Flask

from app.cli.accounts import units_group, users_group
from app.cli.backup import backup_group
from app.cli.clips import clips_group
from app.cli.contests import contests_group
from app.cli.database import db_group
from app.cli.demo import demo_group
from app.cli.notifications import reminders_group
from app.cli.paperwork import awards_group
from app.cli.results import results_group
from app.cli.storage import storage_group

GROUPS = (
    db_group,
    storage_group,
    backup_group,
    demo_group,
    units_group,
    users_group,
    contests_group,
    clips_group,
    results_group,
    reminders_group,
    awards_group,
)


def register_cli(app: Flask) -> None:
    """Attach the web app's command groups to app.cli."""
    for group in GROUPS:
        app.cli.add_command(group)
