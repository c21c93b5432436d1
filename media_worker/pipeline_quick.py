"""The quick path: a source that already is a browser-safe top rung is copied into it instead of re-encoded.

Editor and phone exports are often H.264 + AAC at a sensible bitrate. For those, PeerTube's "quick transcode" remuxes
the streams (`-c copy`); we do the same for the top rung only, stripped of every metadata tag and of every SEI NAL
unit (SEI user data may carry an encoder's or a camera's identity, which blind rounds must not see). The lower rungs
are still encoded from the same single decode. The rules below are pure; `scan_packets` is the one I/O step (a
demux-only ffprobe pass over the video packets).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from media_worker.pipeline_ff import FFPROBE, INPUT_ARGS, QUIET, file_url, fraction, run_ff
from media_worker.pipeline_types import MediaError, ProbeInfo, Rung

# Containers whose H.264 is stored length-prefixed (avcC) with reliable timestamps; MPEG-TS/PS and AVI take the full
# path (Annex B extraction, timestamp discontinuities, B-frame tricks in AVI).
CONTAINERS = frozenset({"mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm"})
PROFILES = frozenset({"High", "Main", "Baseline", "Constrained Baseline"})
MAX_LEVEL = 42  # ffprobe's H.264 level is ten times the level number
MAX_SHORT_SIDE = 1080
MAX_FPS = 60
MAX_KEYFRAME_GAP_S = 5.0
# Audio every browser plays as it is: AAC-LC, mono or stereo, at the two common rates, at a sane bitrate (PeerTube
# also refuses unknown channel layouts and quad, which Chrome mis-plays).
AUDIO_PROFILES = frozenset({"LC"})
AUDIO_RATES = frozenset({44_100, 48_000})
MAX_AUDIO_CHANNELS = 2
MAX_AUDIO_BITRATE = 384_000
HDR_TRANSFERS = frozenset({"smpte2084", "arib-std-b67"})
WIDE_GAMUT = frozenset({"bt2020"})
# SEI NAL units (type 6) carry user data (x264's option banner, camera and app tags); playback needs none of them.
STRIP_SEI = "filter_units=remove_types=6"


def default_max_bitrate(top: Rung) -> int:
    """QUICK_MAX_BITRATE when unset: twice the top rung's video cap (12 Mbit/s at 1080p30, 18 at 1080p60)."""
    return 2 * top.maxrate


def refusal(info: ProbeInfo, top: Rung, rate: Fraction, *, max_bitrate: int) -> str | None:
    """Why the source cannot be copied into the top rung, or None when the stream facts allow it.

    `top` is the ladder's top rung and `rate` the constant rate the lower rungs are encoded at. The packet scan
    (keyframe spacing, constant frame rate) still has to agree: see `scan_refusal`.
    """
    if max_bitrate <= 0:
        return "quick path disabled"
    if info.format_name not in CONTAINERS:
        return f"container {info.format_name}"
    if info.video_codec != "h264":
        return f"video codec {info.video_codec}"
    if info.video_profile not in PROFILES:
        return f"H.264 profile {info.video_profile or 'unknown'}"
    if not 0 < info.video_level <= MAX_LEVEL:
        return f"H.264 level {info.video_level / 10:g}" if info.video_level else "H.264 level unknown"
    if info.pix_fmt != "yuv420p" or info.color_range == "pc":
        return f"pixel format {info.pix_fmt}{' full range' if info.color_range == 'pc' else ''}"
    if info.color_transfer in HDR_TRANSFERS or info.color_primaries in WIDE_GAMUT:
        return "HDR or wide-gamut colour"
    if info.field_order != "progressive":
        return f"field order {info.field_order}"
    if info.rotation or (info.width, info.height) != (info.coded_width, info.coded_height):
        return "rotated or non-square pixels"
    if info.short_side > MAX_SHORT_SIDE or info.fps > MAX_FPS + 0.001:
        return f"{info.width}x{info.height} at {info.fps:g} fps"
    if (info.width, info.height) != (top.width, top.height):
        return f"{info.width}x{info.height} is not the top rung's {top.width}x{top.height}"
    source_rate = fraction(info.fps_rational)
    if info.variable_frame_rate or source_rate != rate:
        return "variable or non-standard frame rate"
    # A stream without its own figure is judged by the whole file's rate, which is an upper bound for it.
    video_rate = info.video_bit_rate or info.bit_rate
    if video_rate is None:
        return "video bitrate unknown"
    if video_rate > max_bitrate:
        return f"video bitrate {video_rate / 1e6:.1f} Mbit/s above {max_bitrate / 1e6:.1f}"
    if info.audio_index is not None:
        if info.audio_codec != "aac" or info.audio_profile not in AUDIO_PROFILES:
            return f"audio {info.audio_codec} {info.audio_profile or ''}".rstrip()
        if not 0 < info.audio_channels <= MAX_AUDIO_CHANNELS or info.audio_sample_rate not in AUDIO_RATES:
            return f"audio {info.audio_channels} channels at {info.audio_sample_rate} Hz"
        if info.audio_bit_rate is not None and info.audio_bit_rate > MAX_AUDIO_BITRATE:
            return f"audio bitrate {info.audio_bit_rate // 1000} kbit/s"
    return None


@dataclass(frozen=True)
class PacketScan:
    """What the video packets say: presentation times (seconds, sorted) and which of them are keyframes."""

    times: tuple[float, ...]
    keyframes: tuple[float, ...]


def scan_refusal(scan: PacketScan, rate: Fraction, duration_s: float) -> str | None:
    """Why the packet timing rules the copy out (keyframes further apart than 5 s, or not CFR), or None."""
    if not scan.times or not scan.keyframes or scan.keyframes[0] > scan.times[0]:
        return "does not start with a keyframe"
    start = scan.times[0]
    points = [*scan.keyframes, start + max(duration_s, scan.times[-1] - start)]
    gap = max(b - a for a, b in zip(points, points[1:], strict=False)) if len(points) > 1 else 0.0
    if gap > MAX_KEYFRAME_GAP_S + 0.001:
        return f"keyframes {gap:.1f} s apart"
    # CFR: every frame lasts one frame period, give or take the container's timestamp rounding (1 ms in Matroska).
    period = 1 / float(rate)
    slack = max(0.0011, period / 10)
    if any(abs((b - a) - period) > slack for a, b in zip(scan.times, scan.times[1:], strict=False)):
        return "frame timing is not constant"
    return None


def scan_packets(path: str | os.PathLike[str], info: ProbeInfo, *, timeout: float) -> PacketScan:
    """Read the video packets' timestamps and key flags (demux only, nothing decoded)."""
    path = Path(path)
    packets: list[tuple[int, bool]] = []
    base: list[Fraction] = []

    def on_line(line: str) -> None:
        parts = line.strip().split(",")
        if len(parts) == 1 and "/" in parts[0]:  # the stream's time_base, printed after the packets
            tb = fraction(parts[0])
            if tb is not None:
                base.append(tb)
        elif len(parts) == 2 and parts[0].lstrip("-").isdigit():  # pts,flags (N/A for packets without a pts)
            packets.append((int(parts[0]), parts[1].startswith("K")))

    cmd = [
        FFPROBE,
        *QUIET[1:],
        *INPUT_ARGS,
        "-select_streams",
        str(info.video_index),
        "-show_entries",
        "stream=time_base:packet=pts,flags",
        "-of",
        "csv=p=0",
        file_url(path),
    ]
    done = run_ff(cmd, timeout=timeout, cwd=path.parent, file_size=0, on_stdout_line=on_line)
    if done.returncode != 0:
        raise MediaError(f"packet scan failed (rc={done.returncode}): {done.stderr[-300:]!r}")
    if not base:
        raise MediaError("packet scan printed no time base")
    times = sorted(float(pts * base[0]) for pts, _ in packets)
    return PacketScan(tuple(times), tuple(sorted(float(pts * base[0]) for pts, key in packets if key)))
