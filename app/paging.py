"""Page numbers from the query string, checked (finding 13: bad paging input is a 404, never a 500)."""

from __future__ import annotations

from flask import abort


def page_number(raw: str | None, *, total: int | None, per_page: int) -> int:
    """The 1-based page asked for in `?page=`; 404 unless it is a plain number of a page that exists.

    Page 1 always exists (it may be empty). A huge number would overflow the database's OFFSET, a bad one would be
    silently read as page 1: both are refused instead.
    """
    if raw is None or raw == "":
        return 1
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        abort(404)
    page = int(raw)
    last = max(1, -(-(total or 0) // per_page))
    if page < 1 or page > last:
        abort(404)
    return page
