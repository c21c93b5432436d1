"""Helpers shared by several blueprints' views."""

from __future__ import annotations

from contextlib import contextmanager
from types import SimpleNamespace

from flask import flash
from flask_babel import gettext, lazy_gettext as _l

from app import db
from app.services import PortalError

from app.models import Clip, ClipStatus

STATUS_LABELS = {
    ClipStatus.UPLOADING: _l("Uploading"),
    ClipStatus.UPLOADED: _l("Uploaded, waiting"),
    ClipStatus.QUEUED: _l("Waiting to be processed"),
    ClipStatus.PROCESSING: _l("Processing"),
    ClipStatus.READY: _l("Ready"),
    ClipStatus.REJECTED: _l("Rejected"),
    ClipStatus.FAILED: _l("Processing failed"),
}


@contextmanager
def committing(success=None):
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


METHOD_LABELS = {
    "mean": _l("Mean"),
    "median": _l("Median"),
    "trimmed_mean": _l("Trimmed mean"),
    "zscore": _l("Z-score"),
    "borda": _l("Borda"),
}

STAGE_LABELS = {
    "probing": _l("checking the file"),
    "transcoding": _l("converting for playback"),
    "thumbnails": _l("making thumbnails"),
}


def clip_reason(clip: Clip | None) -> str | None:
    """The rejection or failure reason in the user's language."""
    if clip is None or clip.status not in (ClipStatus.REJECTED, ClipStatus.FAILED):
        return None
    from media_worker.reasons import REASONS

    template = REASONS.get(clip.reason_code or "")
    if template is None:
        return clip.reason or gettext("The clip could not be processed.")
    try:
        return gettext(template) % (clip.reason_params or {})
    except (KeyError, TypeError, ValueError):
        return clip.reason


def clip_status_doc(clip: Clip | None) -> dict:
    """JSON for the status poller."""
    if clip is None:
        return {"status": None}
    stage = STAGE_LABELS.get(clip.stage or "")
    percent = int((clip.progress or 0) * 100)
    detail = ""
    if clip.status == ClipStatus.PROCESSING:
        detail = gettext("%(percent)d%% — %(stage)s", percent=percent, stage=stage) if stage else f"{percent}%"
    return {
        "status": clip.status.value,
        "label": str(STATUS_LABELS[clip.status]),
        "reason": clip_reason(clip),
        "progress": round(clip.progress or 0, 3),
        "stage": clip.stage,
        "detail": detail,
        "final": clip.status in (ClipStatus.READY, ClipStatus.REJECTED, ClipStatus.FAILED),
    }
