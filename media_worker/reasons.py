"""Why a clip was turned away: stable codes and the parameters each carries. No sentences here: the web app words
them in every language (app/clip_reasons.py), and the worker's job layer stores the English one on the clip."""

from __future__ import annotations

# Code -> the names of its parameters. Params are pre-formatted strings (durations as m:ss, sizes as "1920×1080") so
# every language renders them alike.
REJECTION_PARAMS: dict[str, frozenset[str]] = {
    "empty_file": frozenset(),
    "not_media": frozenset(),
    "no_video_stream": frozenset(),
    "truncated": frozenset(),
    "unreadable": frozenset(),
    "container_not_allowed": frozenset({"format"}),
    "codec_not_allowed": frozenset({"codec"}),
    "too_short": frozenset({"duration", "min"}),
    "too_long": frozenset({"duration", "max"}),
    "resolution_too_high": frozenset({"size", "max_side", "max_mpx"}),
    "resolution_too_low": frozenset({"size", "min"}),
    "frame_rate_out_of_range": frozenset({"fps", "min", "max"}),
}

# Codes that Rejected may carry: each is a verdict on the file, never retried.
REJECTION_CODES: frozenset[str] = frozenset(REJECTION_PARAMS)

# Not rejections: processing failed for reasons outside the entrant's control. The job wrapper records them with an
# error id for the logs: a bug in the pipeline, or infrastructure errors (store, database, queue, disk) that lasted
# longer than CLIP_RETRY_HOURS of automatic retries.
PROCESSING_FAILED = "processing_failed"
INFRASTRUCTURE_UNAVAILABLE = "infrastructure_unavailable"
