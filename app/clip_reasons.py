"""The sentences behind the media pipeline's reason codes: English templates, translated when a page shows them.

The worker's job layer stores the English sentence on the clip (`clip.reason`, shown by `flask clips show`); pages
render the code and its parameters in the reader's language.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import gettext


def N_(s: str) -> str:
    """Mark a string for Babel extraction without translating it here (the worker has no locale)."""
    return s


REASONS: dict[str, str] = {
    "empty_file": N_("The file is empty."),
    "not_media": N_("This file is not a video we can read."),
    "no_video_stream": N_("The file contains no moving picture; it looks like sound only or a still image."),
    "truncated": N_(
        "The file is incomplete; it was probably cut off while being copied or uploaded. "
        "Please upload the complete file again."
    ),
    "unreadable": N_("The video in this file is damaged and cannot be played."),
    "container_not_allowed": N_(
        "Files of type %(format)s are not accepted. Please upload MP4, MOV, MKV, WebM, AVI or MPEG (TS/PS) video."
    ),
    "codec_not_allowed": N_(
        "The video is compressed with %(codec)s, which is not accepted. Please export it as "
        "H.264 (MP4) and upload it again."
    ),
    "too_short": N_("The clip is %(duration)s long; the contest requires clips of at least %(min)s."),
    "too_long": N_("The clip is %(duration)s long; the contest accepts clips of at most %(max)s."),
    "resolution_too_high": N_(
        "The picture is %(size)s pixels; the largest accepted is %(max_side)s pixels on either "
        "side and %(max_mpx)s megapixels in total."
    ),
    "resolution_too_low": N_(
        "The picture is %(size)s pixels; the contest requires at least %(min)sp (the shorter "
        "side must be at least %(min)s pixels)."
    ),
    "frame_rate_out_of_range": N_(
        "The video has %(fps)s frames per second; only %(min)s to %(max)s frames per second are accepted."
    ),
    # Not rejections: processing failed for reasons outside the entrant's control (organisers see the error id).
    "processing_failed": N_(
        "Processing failed because of a problem on our side, not because of your file. The organisers have been told; "
        "you do not need to upload it again."
    ),
    "infrastructure_unavailable": N_(
        "Processing failed because the portal's storage or database was unavailable for too long, not because of your "
        "file. The organisers have been told; you do not need to upload it again."
    ),
}


def english_reason(code: str, params: Mapping[str, object] | None = None) -> str:
    """The English sentence for a reason code (English is the catalogs' source language); KeyError when unknown."""
    return REASONS[code] % dict(params or {})


def reason_text(code: str | None, params: Mapping[str, object] | None = None) -> str | None:
    """The sentence for a reason code in the current locale; None for an unknown code or unusable parameters."""
    template = REASONS.get(code or "")
    if template is None:
        return None
    try:
        return gettext(template) % dict(params or {})
    except (KeyError, TypeError, ValueError):
        return None
