"""What every command shares: JSON output, the one commit, and turning a broken rule into a command-line error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask_babel import force_locale
from sqlalchemy import select

from app import db
from app.models import Unit
from app.services import PortalError


def echo_json(doc: object) -> None:
    """Print doc as indented JSON (non-ASCII kept as is)."""
    click.echo(json.dumps(doc, ensure_ascii=False, indent=2, default=str))


@contextmanager
def committing() -> Iterator[None]:
    """Run a command's service calls as one unit of work in English: commit once, or roll back and exit with the
    broken rule's message."""
    with force_locale("en"):
        try:
            yield
            db.session.commit()
        except PortalError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from None


def unit_by_code(code: str) -> Unit:
    """The unit with this code (case-insensitive), or a command-line error."""
    unit = db.session.scalar(select(Unit).where(Unit.code == code.strip().upper()))
    if unit is None:
        raise click.ClickException(f"no unit {code!r}")
    return unit
