"""`flask demo`: demo data."""

from __future__ import annotations

from flask.cli import AppGroup

from app.cli.common import committing, echo_json
from app.demo import seed

demo_group = AppGroup("demo", help="Demo data.")


@demo_group.command("seed")
def demo_seed() -> None:
    """Create the demo contest, units, accounts and a round (idempotent)."""
    with committing() as session:
        created = seed(session)
    echo_json(created)
