"""How a clip's state reads to people: status and stage labels, the rejection reason, the poller's JSON."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from app.clip_reasons import REASONS, reason_text
from app.i18n import local_time
from app.labels import STATUS_LABELS
from app.models import Clip, ClipStatus
from app.services.clip_processing import is_retrying

STAGE_LABELS = {
    "probing": _l("checking the file"),
    "transcoding": _l("converting for playback"),
    "thumbnails": _l("making thumbnails"),
    "retrying": _l("retrying"),
}


def retry_notice(clip: Clip | None) -> str:
    """What a unit reads while its clip waits for an automatic retry after an outage of ours; "" otherwise."""
    if clip is None or not is_retrying(clip):
        return ""
    if clip.next_attempt_at is None:
        return gettext(
            "A service of the portal was briefly unavailable; this is not a problem with your file. "
            "The portal is retrying by itself: you do not need to do anything."
        )
    return gettext(
        "A service of the portal is briefly unavailable; this is not a problem with your file. "
        "The portal will retry by itself at %(time)s: you do not need to do anything.",
        time=local_time(clip.next_attempt_at),
    )


def clip_reasons(clip: Clip | None) -> list[str]:
    """Every reason a clip was rejected (or why it failed), each a sentence in the user's language."""
    if clip is None or clip.status not in (ClipStatus.REJECTED, ClipStatus.FAILED):
        return []
    sentences = [
        text
        for item in (clip.rejections or [])
        if isinstance(item, dict) and (text := reason_text(item.get("code"), item.get("params")))
    ]
    if sentences:
        return sentences
    if clip.reason_code in REASONS:
        return [reason_text(clip.reason_code, clip.reason_params) or clip.reason or ""]
    return [clip.reason or gettext("The clip could not be processed.")]


def clip_reason(clip: Clip | None) -> str | None:
    """The rejection or failure reason in the user's language (several reasons as one paragraph)."""
    return " ".join(clip_reasons(clip)) or None


def clip_status_doc(clip: Clip | None) -> dict:
    """JSON for the status poller."""
    if clip is None:
        return {"status": None}
    stage = STAGE_LABELS.get(clip.stage or "")
    percent = int((clip.progress or 0) * 100)
    detail = ""
    if clip.status == ClipStatus.PROCESSING:
        detail = gettext("%(percent)d%% — %(stage)s", percent=percent, stage=stage) if stage else f"{percent}%"
    elif is_retrying(clip):
        detail = retry_notice(clip)
    return {
        "status": clip.status.value,
        "label": str(STATUS_LABELS[clip.status]),
        "reason": clip_reason(clip),
        "reasons": clip_reasons(clip),
        "progress": round(clip.progress or 0, 3),
        "stage": clip.stage,
        "detail": detail,
        "final": clip.status in (ClipStatus.READY, ClipStatus.REJECTED, ClipStatus.FAILED),
        "next_attempt_at": clip.next_attempt_at.isoformat() if is_retrying(clip) and clip.next_attempt_at else None,
    }
