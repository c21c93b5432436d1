"""Shared plumbing for the pipeline: binaries, input hardening, running ffmpeg/ffprobe and reading their JSON."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

from media_worker import sandbox
from media_worker.pipeline_types import MediaError

FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"
FFPROBE = shutil.which("ffprobe") or "/usr/bin/ffprobe"

# Every demuxer ffmpeg may pick for an upload. Anything else (hls, dash, concat, image2, sdp, tee...) fails to open,
# which is what keeps playlists and scripts saved as .mp4 from reaching the network or other files.
DEMUXERS = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,mpegts,mpeg"
PROTOCOLS = "file"
# The same, as command-line options (before "-i" on an ffmpeg or ffprobe command line).
INPUT_ARGS = ("-format_whitelist", DEMUXERS, "-protocol_whitelist", PROTOCOLS)
# ffmpeg's quiet flags; -nostdin matters: stdin is /dev/null but ffmpeg would still poll it for "q".
QUIET = ("-nostdin", "-hide_banner", "-loglevel", "error")
# ffprobe's JSON: an object of nested objects and lists.
FFJson = dict[str, Any]


def input_options() -> dict[str, str]:
    """ffmpeg-python input kwargs that pin demuxers and protocols for untrusted input."""
    return {"format_whitelist": DEMUXERS, "protocol_whitelist": PROTOCOLS}


def file_url(path: str | os.PathLike[str]) -> str:
    """An explicit file: URL, so names with ':' or a leading '-' can never be read as a protocol or option."""
    return "file:" + os.path.abspath(os.fspath(path))


def run_ff(
    cmd: Sequence[str],
    *,
    timeout: float,
    cwd: str | os.PathLike[str] | None = None,
    file_size: int | None = None,
    on_stdout_line: Callable[[str], None] | None = None,
) -> sandbox.Completed:
    """Run an ffmpeg/ffprobe command in the sandbox, turning sandbox failures into MediaError."""
    limits = sandbox.Limits(file_size=file_size)
    try:
        return sandbox.run(cmd, timeout=timeout, cwd=cwd, limits=limits, on_stdout_line=on_stdout_line)
    except sandbox.Timeout as exc:
        raise MediaError(f"timed out: {exc}") from exc
    except sandbox.SandboxError as exc:
        raise MediaError(str(exc)) from exc


def killed_by_us(done: sandbox.Completed) -> bool:
    """True when the child died from a signal or ran out of memory: our limits, not the file, are to blame."""
    return done.returncode < 0 or b"Cannot allocate memory" in done.stderr


def ffprobe_json(
    path: str | os.PathLike[str], *, timeout: float, entries: Sequence[str] = ("-show_format", "-show_streams")
) -> tuple[FFJson | None, sandbox.Completed]:
    """Probe path with the hardened input options; returns (parsed JSON or None on failure, raw result)."""
    cmd = [
        FFPROBE,
        *QUIET[1:],
        *INPUT_ARGS,
        "-of",
        "json",
        *entries,
        file_url(path),
    ]
    # RLIMIT_FSIZE 0: ffprobe has no business writing a regular file; an attempt kills it with SIGXFSZ.
    done = run_ff(cmd, timeout=timeout, cwd=Path(path).parent, file_size=0)
    if done.returncode != 0:
        return None, done
    try:
        return json.loads(done.stdout or b"{}"), done
    except ValueError as exc:
        raise MediaError(f"ffprobe printed invalid JSON: {exc}") from exc


def fraction(text: object) -> Fraction | None:
    """Parse ffprobe's 'num/den' or 'num:den'; None for 0/0, N/A and the like."""
    try:
        num, _, den = str(text).replace(":", "/").partition("/")
        value = Fraction(int(num), int(den or 1))
    except (ValueError, ZeroDivisionError):
        return None
    return value if value > 0 else None


def rotation_of(stream: FFJson) -> int:
    """Clockwise display rotation (0/90/180/270) from the display matrix side data or the legacy rotate tag."""
    angle = None
    for side in stream.get("side_data_list") or ():
        if "rotation" in side:
            # ffprobe reports the matrix angle counter-clockwise.
            angle = -float(side["rotation"])
            break
    if angle is None and "rotate" in (stream.get("tags") or {}):
        try:
            angle = float(stream["tags"]["rotate"])
        except ValueError:
            angle = None
    return int(round((angle or 0.0) / 90.0)) * 90 % 360


def display_size(stream: FFJson) -> tuple[int, int]:
    """Width and height as a viewer sees them: sample aspect ratio applied, then rotation."""
    width, height = int(stream.get("width") or 0), int(stream.get("height") or 0)
    sar = fraction(stream.get("sample_aspect_ratio")) or Fraction(1)
    width = max(1, round(width * sar)) if width else 0
    if rotation_of(stream) in (90, 270):
        width, height = height, width
    return width, height


def even(value: float) -> int:
    """Round down to an even number of at least 2 (4:2:0 chroma needs even dimensions)."""
    return max(2, int(value) // 2 * 2)


def remove_quietly(paths: Sequence[Path]) -> None:
    """Delete partial outputs after a failure; missing files are fine."""
    for p in paths:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(p)
