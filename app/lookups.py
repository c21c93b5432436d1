"""The views' lookups by URL part: the row, or a 404 that does not tell whether it exists elsewhere."""

from __future__ import annotations

from typing import Protocol, TypeVar

from flask import abort

from app import db
from app.models import Contest
from app.services.contests import get_contest


class _ContestRow(Protocol):
    @property
    def contest_id(self) -> int: ...


RowT = TypeVar("RowT", bound=_ContestRow)


def contest_or_404(slug: str) -> Contest:
    """The contest at `slug`."""
    return get_contest(db.session, slug) or abort(404)


def contest_row_or_404(model: type[RowT], row_id: int, contest: Contest) -> RowT:
    """The `model` row `row_id`, only if it belongs to `contest`."""
    row = db.session.get(model, row_id)
    if row is None or row.contest_id != contest.id:
        abort(404)
    return row
