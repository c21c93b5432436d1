"""The views' unit of work: run service calls, commit once, or flash the broken rule."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import flash
from flask_wtf import FlaskForm

from app import db
from app.services import PortalError


@dataclass
class Outcome:
    """What `committing()` did: `ok` once committed; `error` is the broken rule otherwise. `value` is what
    `save_form()`'s service calls returned."""

    ok: bool = False
    error: PortalError | None = None
    value: Any = None


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


def save_form(form: FlaskForm, success: str | None, save: Callable[[], Any], category: str = "success") -> Outcome:
    """A form view's POST: when `form` validates, run `save` (the view's service calls) through `committing(success)`
    and keep what it returns in the Outcome's `value`. Not ok if the form was not sent, is invalid, or broke a rule."""
    if not form.validate_on_submit():
        return Outcome()
    with committing(success, category) as outcome:
        outcome.value = save()
    return outcome
