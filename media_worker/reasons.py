"""Why a clip was turned away: stable codes mapped to English templates the web app translates at render time."""

from __future__ import annotations


def N_(s: str) -> str:
    """Mark a string for Babel extraction without translating it here (the worker has no locale)."""
    return s


# Params are pre-formatted strings (durations as m:ss, sizes as "1920×1080") so every language renders them alike.
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
    # Not a rejection: shown when processing failed for reasons outside the entrant's control (the job retries).
    "processing_failed": N_("Processing failed because of a problem on our side. It will be retried automatically."),
}

# Codes that Rejected may carry; processing_failed belongs to the job wrapper, not to a verdict on the file.
REJECTION_CODES: frozenset[str] = frozenset(REASONS) - {"processing_failed"}
