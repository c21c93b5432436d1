"""The H.264 ladder: one ffmpeg process decodes once and encodes every rung the source supports."""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import ffmpeg

from media_worker import pipeline_quick
from media_worker.pipeline_ff import (
    FFMPEG,
    QUIET,
    even,
    ffprobe_json,
    file_url,
    fraction,
    input_options,
    killed_by_us,
    remove_quietly,
    run_ff,
)
from media_worker.pipeline_probe import check_hard_caps
from media_worker.pipeline_types import MediaError, ProbeInfo, Rendition, Rung

log = logging.getLogger(__name__)
# veryfast: the 3-rung 1080p ladder runs at about real time on 2 idle cores. Measured on 720p: "faster" and "medium"
# cost 1.6x and 2.2x the encode CPU and, at the same CRF, write 6 % and 17 % bigger files (a little more quality);
# previews for judges capped by maxrate do not need that.
PRESET = "veryfast"
CRF = 23
GOP_S = 2.0
MAX_OUTPUT_FPS = 60
# (short side, maxrate at <=30 fps, audio bitrate); bufsize is 2x maxrate.
LADDER = ((360, 1_000_000, 96_000), (720, 3_000_000, 128_000), (1080, 6_000_000, 128_000))
STANDARD_RATES = tuple(
    Fraction(n, d)
    for n, d in ((24000, 1001), (24, 1), (25, 1), (30000, 1001), (30, 1), (48, 1), (50, 1), (60000, 1001), (60, 1))
)
PROGRESS_EVERY_S = 0.5
# PQ and HLG (iPhones record HLG by default): without tone mapping an 8-bit BT.709 rendition looks washed out.
HDR_TRANSFERS = pipeline_quick.HDR_TRANSFERS


def _even_round(value: float) -> int:
    """Nearest even integer, at least 2."""
    return max(2, round(value / 2) * 2)


def output_rate(info: ProbeInfo) -> Fraction:
    """Constant output frame rate: the source's, halved/thirded above 60 fps, snapped to a broadcast rate if close."""
    rate = fraction(info.fps_rational) or Fraction(info.fps).limit_denominator(1001)
    base = fraction(info.base_rate)
    # VFR: the nominal rate keeps the fast passages smooth; but MP4/MKV may report a timebase (600, 1000) as nominal.
    if info.variable_frame_rate and base and rate < base <= MAX_OUTPUT_FPS:
        rate = base
    if rate > MAX_OUTPUT_FPS:
        rate /= math.ceil(rate / MAX_OUTPUT_FPS)
    nearest = min(STANDARD_RATES, key=lambda r: abs(r - rate))
    # Phone VFR clips average e.g. 29.6 fps; 3 % snaps them to 29.97 without touching 15 or 20 fps sources.
    return nearest if abs(nearest - rate) / rate <= Fraction(3, 100) else rate.limit_denominator(1001)


def plan_ladder(info: ProbeInfo) -> list[Rung]:
    """Rungs by the short side, smallest first, never upscaling; tiny sources get one rung at their own size."""
    short, long_ = info.short_side, max(info.width, info.height)
    landscape = info.width >= info.height
    boost = 1.5 if output_rate(info) > 31 else 1.0
    rungs = []
    for target, maxrate, audio in LADDER:
        if target > short:
            break
        a, b = _even_round(target), _even_round(long_ * target / short)
        w, h = (b, a) if landscape else (a, b)
        rungs.append(Rung(f"{target}p", w, h, int(maxrate * boost), audio))
    if not rungs:
        w, h = even(info.width), even(info.height)
        base_short, base_rate, base_audio = LADDER[0]
        # Scale the 360p cap by pixel count, with a floor so tiny clips still get a decent picture.
        maxrate = max(300_000, int(base_rate * boost * w * h / (base_short * base_short * 16 / 9)))
        rungs.append(Rung(f"{min(w, h)}p", w, h, maxrate, base_audio))
    return rungs


def default_timeout(info: ProbeInfo) -> float:
    """Generous wall-clock budget: 4K 10-bit HEVC decodes at a few times slower than real time on 2 cores."""
    return 60.0 + 20.0 * max(info.duration_s, 1.0)


def _max_file_size(info: ProbeInfo, rungs: list[Rung], *, copy_top: bool = False) -> int:
    """RLIMIT_FSIZE for the encoder: twice the top rung's capped bitrate plus container slack, never above 4 GiB.

    A copied top rung holds the source's own streams, so it may be as large as the source file."""
    top = max(r.maxrate + r.audio_bitrate for r in rungs)
    limit = int(top / 8 * (info.duration_s + 2) * 2) + (16 << 20)
    if copy_top:
        limit = max(limit, info.size_bytes + (16 << 20))
    return min(4 << 30, limit)


def _fit(video: Any, rung: Rung) -> Any:
    """Scale to the rung's display size (autorotation already ran in the decoder), square pixels, yuv420p, TV range."""
    return (
        video.filter("scale", rung.width, rung.height, out_range="tv").filter("setsar", 1).filter("format", "yuv420p")
    )


def build_command(
    path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    info: ProbeInfo,
    rungs: list[Rung],
    *,
    copy_top: bool = False,
    threads: int | None = None,
) -> list[str]:
    """The complete ffmpeg argv for the ladder (built with ffmpeg-python, never run by it).

    copy_top: the quick path; the top rung is the source's own streams remuxed (see pipeline_quick), and only the
    lower rungs are encoded, from the same decode and the same filter graph as on the full path.
    threads: ffmpeg's decoder, filter and encoder threads (None: ffmpeg's choice, about 1.5 per core).
    """
    rate = output_rate(info)
    gop = max(1, round(GOP_S * rate))
    # -t caps reading at the probed duration: a header that lies about length cannot make us encode for hours.
    in_opts: dict[str, object] = {**input_options()}
    if threads:
        in_opts["threads"] = threads
    src = ffmpeg.input(file_url(path), t=f"{info.duration_s + 1:.3f}", **in_opts)
    top = max(rungs, key=lambda r: r.width * r.height)
    encoded = [r for r in rungs if not (copy_top and r is top)]
    outputs: dict[str, Any] = {}
    if encoded:
        made = _encode_outputs(src, info, encoded, top, gop, out_dir, threads)
        outputs.update(zip((r.name for r in encoded), made, strict=True))
    if copy_top:
        outputs[top.name] = _copy_output(src, info, Path(out_dir) / f"{top.name}.mp4")
    spec = ffmpeg.merge_outputs(*(outputs[r.name] for r in rungs)).global_args(
        *QUIET, "-progress", "pipe:1", "-nostats"
    )
    if threads:
        spec = spec.global_args("-filter_complex_threads", str(threads))
    argv: list[str] = spec.compile(cmd=FFMPEG, overwrite_output=True)
    return argv


def _encode_outputs(
    src: Any,
    info: ProbeInfo,
    rungs: list[Rung],
    top: Rung,
    gop: int,
    out_dir: str | os.PathLike[str],
    threads: int | None,
) -> list[Any]:
    """One libx264/AAC output per rung, all cut from one decode: the picture is made top-rung sized, then split."""
    rate = output_rate(info)
    video = src[str(info.video_index)]
    if info.interlaced:
        # deint=interlaced leaves frames flagged progressive alone (mixed-content broadcasts).
        video = video.filter("bwdif", mode="send_frame", parity="auto", deint="interlaced")
    video = video.filter("fps", fps=f"{rate.numerator}/{rate.denominator}")
    # Scale once to the top rung (display size, square pixels, 8-bit 4:2:0, TV range) before the split, so a 4K
    # source is resampled once instead of once per rung; the lower rungs are cut from that top-rung picture.
    if info.color_transfer in HDR_TRANSFERS:
        # Tone map once, after shrinking to the top rung (still 10-bit): float RGB at 4K costs 4x what it does at
        # 1080p. zscale reads the input's primaries/matrix from the frames.
        video = video.filter("scale", top.width, top.height)
        video = (
            video.filter("zscale", t="linear", npl=100)
            .filter("format", "gbrpf32le")
            .filter("zscale", p="bt709")
            .filter("tonemap", tonemap="hable", desat=0)
            .filter("zscale", t="bt709", m="bt709", r="tv")
            .filter("setparams", colorspace="bt709", color_trc="bt709", color_primaries="bt709")
        )
    video = _fit(video, top)
    videos = video.filter_multi_output("split", len(rungs)) if len(rungs) > 1 else None
    audios = None
    if info.audio_index is not None:
        # async=1 stretches/pads to timestamps so VFR sources stay in sync; first_pts=0 aligns the start with video.
        audio = (
            src[str(info.audio_index)]
            .filter("aresample", **{"async": 1, "first_pts": 0})
            .filter("aformat", sample_rates=48000, channel_layouts="stereo")
        )
        audios = audio.filter_multi_output("asplit", len(rungs)) if len(rungs) > 1 else [audio]
    outputs = []
    for i, rung in enumerate(rungs):
        v = videos[i] if videos is not None else video
        if rung is not top:
            v = _fit(v, rung)
        streams = [v] + ([audios[i]] if audios is not None else [])
        opts: dict[str, object] = {
            "c:v": "libx264",
            "preset": PRESET,
            "crf": CRF,
            "profile:v": "high",
            "maxrate": rung.maxrate,
            "bufsize": rung.maxrate * 2,
            "g": gop,
            "keyint_min": gop,
            "sc_threshold": 0,
            "movflags": "+faststart",
            "map_metadata": -1,
            "map_metadata:s": -1,
            "map_chapters": -1,
            "fflags": "+bitexact",
            "flags:v": "+bitexact",
            "max_muxing_queue_size": 4096,
            "format": "mp4",
        }
        if threads:
            opts["threads"] = threads
        if audios is not None:
            opts.update({"c:a": "aac", "b:a": rung.audio_bitrate, "flags:a": "+bitexact"})
        outputs.append(ffmpeg.output(*streams, file_url(Path(out_dir) / f"{rung.name}.mp4"), **opts))
    return outputs


def _copy_output(src: Any, info: ProbeInfo, target: Path) -> Any:
    """The quick path's top rung: the source's video (and AAC audio) remuxed, faststart, with no tag and no SEI."""
    streams = [src[str(info.video_index)]] + ([src[str(info.audio_index)]] if info.audio_index is not None else [])
    opts = {
        "c": "copy",
        "bsf:v": pipeline_quick.STRIP_SEI,
        "movflags": "+faststart",
        "map_metadata": -1,
        "map_metadata:s": -1,
        "map_chapters": -1,
        "fflags": "+bitexact",
        "max_muxing_queue_size": 4096,
        "format": "mp4",
    }
    return ffmpeg.output(*streams, file_url(target), **opts)


def quick_refusal(
    path: str | os.PathLike[str], info: ProbeInfo, rungs: list[Rung], *, max_bitrate: int | None, timeout: float
) -> str | None:
    """Why this source's top rung must be encoded, or None when it can be a stream copy (the quick path).

    max_bitrate: QUICK_MAX_BITRATE in bits/s (None: twice the top rung's cap; 0: never take the quick path).
    """
    top = max(rungs, key=lambda r: r.width * r.height)
    limit = pipeline_quick.default_max_bitrate(top) if max_bitrate is None else max_bitrate
    rate = output_rate(info)
    reason = pipeline_quick.refusal(info, top, rate, max_bitrate=limit)
    if reason is not None:
        return reason
    try:
        scan = pipeline_quick.scan_packets(path, info, timeout=timeout)
    except MediaError as exc:
        return f"packet scan failed: {exc}"
    return pipeline_quick.scan_refusal(scan, rate, info.duration_s)


class Progress:
    """Turns ffmpeg -progress lines into monotonic fractions, throttled to one call per PROGRESS_EVERY_S."""

    def __init__(self, duration_s: float, callback: Callable[[float], None] | None) -> None:
        self.duration_s = max(duration_s, 0.001)
        self.callback = callback
        self.best = 0.0
        self.last_call = float("-inf")
        self.reported = -1.0

    def feed(self, line: str) -> None:
        """Consume one key=value line from ffmpeg."""
        key, _, value = line.strip().partition("=")
        if key == "out_time_us" and value.lstrip("-").isdigit():
            self.best = max(self.best, min(1.0, max(0.0, int(value) / 1e6 / self.duration_s)))
            self._emit(force=False)
        elif key == "progress" and value == "end":
            self.best = 1.0
            self._emit(force=True)

    def _emit(self, *, force: bool) -> None:
        """Call back if enough time passed and the value moved."""
        now = time.monotonic()
        if (
            self.callback is None
            or self.best <= self.reported
            or (not force and now - self.last_call < PROGRESS_EVERY_S)
        ):
            return
        self.last_call, self.reported = now, self.best
        self.callback(self.best)


def _measure(path: Path, name: str, *, timeout: float, copied: bool = False) -> Rendition:
    """Read back an output: real dimensions and bitrate (bits/s over the whole file)."""
    data, done = ffprobe_json(path, timeout=timeout)
    if data is None:
        raise MediaError(f"ffmpeg wrote an unreadable {path.name}: {done.stderr[-300:]!r}")
    video = next((s for s in data.get("streams", []) if s.get("codec_type") == "video"), None)
    size = path.stat().st_size
    duration = float(data.get("format", {}).get("duration") or 0)
    if video is None or size == 0 or duration <= 0:
        raise MediaError(f"ffmpeg wrote an empty or video-less {path.name}")
    bitrate = int(data["format"].get("bit_rate") or size * 8 / duration)
    return Rendition(name, path, int(video["width"]), int(video["height"]), bitrate, size, copied)


def transcode(
    path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    info: ProbeInfo,
    *,
    on_progress: Callable[[float], None] | None = None,
    timeout: float | None = None,
    quick_max_bitrate: int | None = None,
    threads: int | None = None,
) -> list[Rendition]:
    """Make every supported rung in out_dir as <name>.mp4, smallest first; the top one is a copy when it may be.

    quick_max_bitrate: QUICK_MAX_BITRATE (None: twice the top rung's cap; 0: always encode every rung).
    threads: ffmpeg threads per stage (None: ffmpeg's choice).
    """
    check_hard_caps(info)
    path, out_dir = Path(path), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rungs = plan_ladder(info)
    targets = [out_dir / f"{r.name}.mp4" for r in rungs]
    progress = Progress(info.duration_s, on_progress)
    budget = timeout if timeout is not None else default_timeout(info)
    started = time.monotonic()
    reason = quick_refusal(path, info, rungs, max_bitrate=quick_max_bitrate, timeout=min(60.0, budget / 4))
    copy_top = reason is None
    log.info("%s: top rung %s", path.name, "copied (quick path)" if copy_top else f"encoded ({reason})")
    try:
        done = run_ff(
            build_command(path, out_dir, info, rungs, copy_top=copy_top, threads=threads),
            timeout=max(0.1, budget - (time.monotonic() - started)),
            cwd=path.parent,
            file_size=_max_file_size(info, rungs, copy_top=copy_top),
            on_stdout_line=progress.feed,
        )
        if done.returncode != 0:
            what = "killed" if killed_by_us(done) else "failed"
            raise MediaError(f"ffmpeg {what} (rc={done.returncode}): {done.stderr[-500:].decode(errors='replace')}")
        top = max(rungs, key=lambda r: r.width * r.height)
        renditions = [
            _measure(t, r.name, timeout=30, copied=copy_top and r is top) for t, r in zip(targets, rungs, strict=True)
        ]
    except BaseException:
        remove_quietly(targets)
        raise
    return renditions
