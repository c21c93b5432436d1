"""The abandoned-upload sweeper outside requests: `flask --app wsgi uploads sweep` and each worker's start."""

from __future__ import annotations

import logging
from datetime import timedelta

from app import db
from app.services.uploads import sweep_abandoned_uploads
from app.storage import Storage

log = logging.getLogger(__name__)


def sweep_uploads(config, *, hours: float | None = None) -> dict:
    """Abort uploads older than `hours` (default UPLOAD_ABANDON_HOURS) in a session of its own; commit."""
    older = timedelta(hours=config["UPLOAD_ABANDON_HOURS"] if hours is None else hours)
    with db.session_scope() as session:
        return sweep_abandoned_uploads(session, Storage.from_config(config), older_than=older)


def sweep_uploads_at_startup(config) -> dict | None:
    """The sweep for a worker starting: errors are logged, never fatal to the worker."""
    try:
        result = sweep_uploads(config)
    except Exception:  # noqa: BLE001 - a store or database hiccup must not stop the media worker
        log.exception("abandoned-upload sweep failed")
        return None
    if result["clips"] or result["orphans"]:
        log.info("aborted abandoned uploads: %s", result)
    return result
