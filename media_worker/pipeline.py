"""Pure media pipeline: local file in, local files out, via sandboxed ffmpeg. No DB, S3, Redis or Flask here.

The job wrapper calls, in order: probe_file -> validate -> transcode -> make_posters -> make_storyboard.
Rejected means the file is unacceptable (record it, never retry); MediaError means ffmpeg or the machine failed
(let the job retry). Implementation is split by responsibility into pipeline_*.py and sandbox.py.
"""

from __future__ import annotations

from media_worker.pipeline_images import make_posters, make_storyboard
from media_worker.pipeline_probe import probe_file, validate
from media_worker.pipeline_transcode import transcode
from media_worker.pipeline_types import ClipRules, MediaError, Poster, ProbeInfo, Rejected, Rendition, Storyboard

__all__ = [
    "ClipRules",
    "ProbeInfo",
    "Rendition",
    "Poster",
    "Storyboard",
    "Rejected",
    "MediaError",
    "probe_file",
    "validate",
    "transcode",
    "make_posters",
    "make_storyboard",
]
