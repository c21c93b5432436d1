"""Stills for the judging UI: poster JPEGs and the seek-bar storyboard (sprite + WebVTT)."""

from __future__ import annotations

import math
import os
from pathlib import Path

import ffmpeg

from media_worker.pipeline_ff import (
    FFMPEG,
    QUIET,
    FFJson,
    display_size,
    even,
    ffprobe_json,
    file_url,
    input_options,
    remove_quietly,
    run_ff,
)
from media_worker.pipeline_transcode import GOP_S
from media_worker.pipeline_types import MediaError, Poster, ProbeInfo, Storyboard

POSTER_SIZES = (("poster", 1280), ("poster_small", 320))
# Frames the thumbnail filter compares, after thinning to THUMB_FPS: a 3 s window kept small in memory.
THUMB_FPS, THUMB_FRAMES = 5, 15
JPEG_OPTS = {
    "c:v": "mjpeg",
    "frames:v": 1,
    "update": 1,
    "map_metadata": -1,
    "fflags": "+bitexact",
    "flags:v": "+bitexact",
    "format": "image2",
}


def _video_facts(path: Path, *, timeout: float) -> tuple[FFJson, float | None]:
    """The first video stream of one of our inputs plus its duration; MediaError if ffprobe cannot read it."""
    data, done = ffprobe_json(path, timeout=timeout)
    doc: FFJson = data or {}
    streams = doc.get("streams") or []
    video = next(
        (s for s in streams if s.get("codec_type") == "video" and not (s.get("disposition") or {}).get("attached_pic")),
        None,
    )
    if video is None:
        raise MediaError(f"cannot read video from {path.name}: {done.stderr[-300:]!r}")
    fmt: FFJson = doc.get("format") or {}
    try:
        duration = float(fmt["duration"])
    except (KeyError, TypeError, ValueError):
        duration = None
    return video, duration


def _fit_width(width: int, height: int, max_width: int) -> tuple[int, int]:
    """Scale to at most max_width wide keeping aspect; never upscale; even dims for 4:2:0 JPEG."""
    w = min(max_width, width)
    return even(w), even(round(height * w / width))


def make_posters(
    path: str | os.PathLike[str], out_dir: str | os.PathLike[str], info: ProbeInfo, *, timeout: float = 120
) -> list[Poster]:
    """A representative frame (ffmpeg thumbnail filter) as poster.jpg (<=1280 wide) and poster_small.jpg (<=320)."""
    path, out_dir = Path(path), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # Probe what we were given (source or a rendition): its own size decides "no upscaling".
    video, duration = _video_facts(path, timeout=30)
    width, height = display_size(video)
    duration = duration or info.duration_s
    # A quarter in skips fade-ins and title cards; short clips are searched from the start.
    start = duration * 0.25 if duration > 4 else 0.0
    src = ffmpeg.input(file_url(path), ss=f"{start:.3f}", **input_options())
    v = src[str(video["index"])]
    if video.get("field_order") in ("tt", "bb", "tb", "bt"):
        v = v.filter("bwdif", mode="send_frame", parity="auto", deint="interlaced")
    big_w, big_h = _fit_width(width, height, POSTER_SIZES[0][1])
    v = (
        v.filter("fps", fps=THUMB_FPS)
        .filter("scale", big_w, big_h)
        .filter("setsar", 1)
        .filter("thumbnail", THUMB_FRAMES)
        .filter_multi_output("split", len(POSTER_SIZES))
    )
    outputs, posters = [], []
    for i, (name, max_w) in enumerate(POSTER_SIZES):
        w, h = _fit_width(big_w, big_h, max_w)
        target = out_dir / f"{name}.jpg"
        branch = v[i] if (w, h) == (big_w, big_h) else v[i].filter("scale", w, h)
        outputs.append(ffmpeg.output(branch.filter("format", "yuvj420p"), file_url(target), **{"q:v": 3}, **JPEG_OPTS))
        posters.append(Poster(name, target, w, h))
    cmd = ffmpeg.merge_outputs(*outputs).global_args(*QUIET).compile(cmd=FFMPEG, overwrite_output=True)
    _run_images(cmd, [p.path for p in posters], cwd=path.parent, timeout=timeout)
    return posters


def _run_images(cmd: list[str], targets: list[Path], *, cwd: Path, timeout: float) -> None:
    """Run an image-producing ffmpeg command; every target must exist and be non-empty afterwards."""
    try:
        done = run_ff(cmd, timeout=timeout, cwd=cwd, file_size=64 << 20)
        missing = [t.name for t in targets if not t.exists() or t.stat().st_size == 0]
        if done.returncode != 0 or missing:
            raise MediaError(
                f"ffmpeg image step failed (rc={done.returncode}, missing={missing}): "
                f"{done.stderr[-300:].decode(errors='replace')}"
            )
    except BaseException:
        remove_quietly(targets)
        raise


def storyboard_interval(duration_s: float, *, max_tiles: int = 100) -> float:
    """max(1 s, duration/max_tiles) rounded up to the renditions' keyframe interval, so only keyframes are decoded."""
    wanted = max(1.0, duration_s / max_tiles)
    return GOP_S * math.ceil(wanted / GOP_S)


def _timestamp(seconds: float) -> str:
    """WebVTT HH:MM:SS.mmm."""
    ms = int(round(seconds * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def storyboard_vtt(board: Storyboard, *, duration_s: float, sprite_url: str) -> str:
    """WebVTT whose cues point into board's sprite with media fragments (#xywh=x,y,w,h)."""
    lines = ["WEBVTT", ""]
    count, interval_s, tile_w, tile_h = board.count, board.interval_s, board.tile_w, board.tile_h
    for i in range(count):
        start = i * interval_s
        end = min((i + 1) * interval_s, duration_s) if i == count - 1 else (i + 1) * interval_s
        x, y = (i % board.columns) * tile_w, (i // board.columns) * tile_h
        lines += [
            f"{_timestamp(start)} --> {_timestamp(max(end, start + 0.001))}",
            f"{sprite_url}#xywh={x},{y},{tile_w},{tile_h}",
            "",
        ]
    return "\n".join(lines)


def make_storyboard(
    rendition_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    duration_s: float,
    sprite_name: str = "storyboard.jpg",
    vtt_name: str = "storyboard.vtt",
    sprite_url: str | None = None,
    tile_width: int = 160,
    columns: int = 10,
    max_tiles: int = 100,
    timeout: float = 60,
) -> Storyboard:
    """Sprite of tile_width-wide frames plus a VTT referencing it as sprite_url (default: sprite_name, relative)."""
    path, out_dir = Path(rendition_path), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    video, _ = _video_facts(path, timeout=30)
    width, height = display_size(video)
    interval = storyboard_interval(duration_s, max_tiles=max_tiles)
    count = max(1, math.ceil(duration_s / interval - 1e-6))
    cols = min(columns, count)
    rows = math.ceil(count / cols)
    tile_w = even(min(tile_width, width))
    tile_h = even(round(height * tile_w / width))
    sprite, vtt = out_dir / sprite_name, out_dir / vtt_name
    # Decoding keyframes only is ~5x faster than a full decode; our renditions have one exactly every GOP_S.
    src = ffmpeg.input(file_url(path), skip_frame="nokey", **input_options())
    # eof_action=pass: otherwise the last keyframe (and a clip's only one) is dropped at end of stream.
    v = (
        src[str(video["index"])]
        .filter("fps", fps=f"1/{interval:g}", eof_action="pass")
        .filter("scale", tile_w, tile_h)
        .filter("setsar", 1)
        .filter("tile", f"{cols}x{rows}")
        .filter("format", "yuvj420p")
    )
    cmd = (
        ffmpeg.output(v, file_url(sprite), **{"q:v": 5}, **JPEG_OPTS)
        .global_args(*QUIET)
        .compile(cmd=FFMPEG, overwrite_output=True)
    )
    _run_images(cmd, [sprite], cwd=path.parent, timeout=timeout)
    board = Storyboard(sprite, vtt, interval, tile_w, tile_h, cols, count)
    text = storyboard_vtt(
        board, duration_s=duration_s, sprite_url=sprite_url if sprite_url is not None else sprite_name
    )
    vtt.write_text(text, encoding="utf-8")
    return board
