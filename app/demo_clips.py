"""Synthetic clips made by ffmpeg from its lavfi test sources, so that no video is stored in the repository.

One command serves the published demo, the browser tests and the media benchmark; each passes only what differs.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

# A quick H.264 encode in the 8-bit 4:2:0 that every player takes.
X264_FAST = ("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")


def synthetic_clip_command(
    path: Path,
    *,
    size: str,
    seconds: float,
    rate: int = 25,
    source: str = "testsrc2",
    tone_hz: int | None = 440,
    video_filter: str | None = None,
    encode: Sequence[str] = X264_FAST,
    ffmpeg: str = "ffmpeg",
) -> list[str]:
    """The ffmpeg command writing `path`: the `source` pattern at `size` and `rate` for `seconds`, with a sine tone of
    `tone_hz` as AAC (no audio when None), the picture through `video_filter` and encoded with `encode`."""
    cmd = [ffmpeg, "-nostdin", "-v", "error", "-y"]
    cmd += ["-f", "lavfi", "-i", f"{source}=size={size}:rate={rate}"]  # not every source takes a duration
    if tone_hz is not None:
        cmd += ["-f", "lavfi", "-i", f"sine=frequency={tone_hz}"]
    cmd += ["-t", str(seconds)]
    if video_filter:
        cmd += ["-vf", video_filter]
    cmd += encode
    if tone_hz is not None:
        cmd += ["-c:a", "aac", "-shortest"]
    return [*cmd, str(path)]


def make_synthetic_clip(path: Path, *, timeout: float | None = None, **options) -> Path:
    """Run `synthetic_clip_command(path, **options)` and return `path`."""
    subprocess.run(synthetic_clip_command(path, **options), check=True, timeout=timeout)  # noqa: S603 - no shell
    return path
