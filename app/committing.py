"""The views' unit of work: run service calls, commit once, or flash the broken rule."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace

from flask import flash

from app import db
from app.services import PortalError


@contextmanager
def committing(success: object = None) -> Iterator[SimpleNamespace]:
    """Run a view's service calls as one unit of work: commit and flash `success`, or on a broken rule roll back and
    flash the rule's message. `.ok` on the yielded object says which happened."""
    outcome = SimpleNamespace(ok=False)
    try:
        yield outcome
        db.session.commit()
    except PortalError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return
    outcome.ok = True
    if success is not None:
        flash(success, "success")
