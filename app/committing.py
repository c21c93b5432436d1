"""The views' unit of work: run service calls, commit once, or flash the broken rule."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import flash

from app import db
from app.services import PortalError


@dataclass
class Outcome:
    """What `committing()` did: `ok` once committed; `error` is the broken rule otherwise."""

    ok: bool = False
    error: PortalError | None = None


@contextmanager
def committing(success: str | None = None, category: str = "success") -> Iterator[Outcome]:
    """Run a view's service calls as one unit of work: commit and flash `success` (in `category`), or on a broken rule
    roll back and flash the rule's message. The yielded Outcome says which happened."""
    outcome = Outcome()
    try:
        yield outcome
        db.session.commit()
    except PortalError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        outcome.error = exc
        return
    outcome.ok = True
    if success is not None:
        flash(success, category)
