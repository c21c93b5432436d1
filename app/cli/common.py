"""What every command shares: JSON output, the one commit, and turning a broken rule into a command-line error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import db
from app.models import Unit
from app.services import PortalError


def echo_json(doc: object) -> None:
    """Print doc as indented JSON (non-ASCII kept as is)."""
    click.echo(json.dumps(doc, ensure_ascii=False, indent=2, default=str))


def current_session() -> Session:
    """The app context's database session (the object behind `db.session`)."""
    return db.session()


@contextmanager
def committing() -> Iterator[Session]:
    """Run a command's service calls on the yielded session as one unit of work, in English: commit once, or roll
    back and exit with the broken rule's message."""
    session = current_session()
    with force_locale("en"):
        try:
            yield session
            session.commit()
        except PortalError as exc:
            session.rollback()
            raise click.ClickException(str(exc)) from None


def unit_by_code(session: Session, code: str) -> Unit:
    """The unit with this code (case-insensitive), or a command-line error."""
    unit = session.scalar(select(Unit).where(Unit.code == code.strip().upper()))
    if unit is None:
        raise click.ClickException(f"no unit {code!r}")
    return unit
