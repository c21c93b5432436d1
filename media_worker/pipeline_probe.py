"""Probe and validate an upload before any transcoding: sniff, ffprobe, tail decode, hard caps and contest rules."""

from __future__ import annotations

import math
import os
import stat
import time
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

from media_worker.pipeline_ff import (
    FFMPEG,
    INPUT_ARGS,
    QUIET,
    FFJson,
    display_size,
    ffprobe_json,
    file_url,
    fraction,
    killed_by_us,
    rotation_of,
    run_ff,
)
from media_worker.pipeline_types import ClipRules, MediaError, ProbeInfo, Rejected
from media_worker.sandbox import Completed

ALLOWED_FORMATS = frozenset({"mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "avi", "mpegts", "mpeg"})
ALLOWED_VIDEO_CODECS = frozenset(
    {"h264", "hevc", "vp8", "vp9", "av1", "mpeg4", "mpeg2video", "mpeg1video", "mjpeg", "prores", "dnxhd", "h263"}
)
CODEC_NAMES = {
    "rawvideo": "uncompressed video",
    "ffv1": "FFV1",
    "wmv3": "Windows Media Video",
    "flv1": "Flash video",
    "msmpeg4v3": "DivX 3",
    "theora": "Theora",
    "gif": "GIF",
    "png": "PNG",
}
MAX_SIDE = 4096
MAX_PIXELS = 8_900_000
MIN_FPS, MAX_FPS = 1.0, 240.0
# Containers round durations up (AAC priming, last-frame duration); a "60 s" clip may probe as 60.04 s.
DURATION_SLACK_S = 0.5
# How much of the end the truncation check decodes; a keyframe interval more is decoded to get there.
TAIL_S = 1.0
HEAD_BYTES = 4096

# Magic numbers of things we know and refuse, so the message can say what the file is.
_REFUSED_CONTAINERS = (
    (b"FLV", "FLV"),
    (b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", "Windows Media (ASF/WMV)"),
    (b"OggS", "Ogg"),
    (b".RMF", "RealMedia"),
    (b"\x06\x0e\x2b\x34", "MXF"),
    (b"nut/multimedia container", "NUT"),
    (b"GIF8", "GIF"),
)
_STILLS_AND_SOUND = (b"\xff\xd8\xff", b"\x89PNG", b"II*\x00", b"MM\x00*", b"ID3", b"fLaC", b"#!AMR")
_IMAGE_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
_MOV_ATOMS = {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"uuid", b"jP  "}


def _read_head(path: Path) -> tuple[int, bytes]:
    """Size and first bytes of a regular file, refusing symlinks so nothing outside the job dir is read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise MediaError(f"cannot open input {path}: {exc}") from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise MediaError(f"input {path} is not a regular file")
        return st.st_size, os.read(fd, HEAD_BYTES)
    finally:
        os.close(fd)


def sniff(head: bytes) -> str:
    """Classify the first bytes: return the container family ffprobe may open, or raise Rejected."""
    if not head:
        raise Rejected("empty_file")
    if head[4:8] in _MOV_ATOMS:
        if head[4:8] == b"ftyp" and head[8:12] in _IMAGE_BRANDS:
            raise Rejected("no_video_stream")
        return "mov"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "matroska"
    if head[:4] == b"RIFF":
        if head[8:12] == b"AVI ":
            return "avi"
        if head[8:12] in (b"WAVE", b"WEBP"):
            raise Rejected("no_video_stream")
        raise Rejected("not_media")
    # MPEG-TS packets are 188 bytes (192 in Blu-ray M2TS, sync byte after a 4-byte timecode).
    if all(len(head) > i and head[i] == 0x47 for i in (0, 188, 376)):
        return "mpegts"
    if all(len(head) > i and head[i] == 0x47 for i in (4, 196, 388)):
        return "mpegts"
    if head[:4] == b"\x00\x00\x01\xba":
        return "mpeg"
    for magic, name in _REFUSED_CONTAINERS:
        if head.startswith(magic):
            raise Rejected("container_not_allowed", format=name)
    # MPEG audio / ADTS frame sync: 11 set bits.
    if head.startswith(_STILLS_AND_SOUND) or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        raise Rejected("no_video_stream")
    # Text (playlists, concat scripts, XML manifests) and every unknown binary end here, before ffprobe.
    raise Rejected("not_media")


def _fail_probe(done: Completed) -> Rejected:
    """Map a failed ffprobe run to the most honest rejection."""
    err = done.stderr
    if killed_by_us(done):
        raise MediaError(f"ffprobe killed (rc={done.returncode}): {err[-300:]!r}")
    if b"moov atom not found" in err or b"partial file" in err or b"ended prematurely" in err:
        return Rejected("truncated")
    if b"not on whitelist" in err:
        return Rejected("not_media")
    return Rejected("unreadable")


def _pick_video(streams: list[FFJson]) -> FFJson | None:
    """First real video stream; cover art and thumbnail tracks do not count."""
    for s in streams:
        disp = s.get("disposition") or {}
        if s.get("codec_type") == "video" and not disp.get("attached_pic") and not disp.get("timed_thumbnails"):
            return s
    return None


def _pick_audio(streams: list[FFJson]) -> FFJson | None:
    """First audio stream ffmpeg can identify; several tracks means the first is used."""
    for s in streams:
        if s.get("codec_type") == "audio" and s.get("codec_name") not in (None, "", "none") and s.get("channels"):
            return s
    return None


def _float(value: object) -> float | None:
    """ffprobe number or None for N/A."""
    try:
        result = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def _int(value: object) -> int | None:
    """ffprobe integer (often a string) or None for N/A, zero and negatives."""
    number = _float(value)
    return int(number) if number is not None and number > 0 else None


def _null_output_cmd(
    path: Path, stream: int, *, input_args: tuple[str, ...] = (), output_args: tuple[str, ...] = ()
) -> list[str]:
    """ffmpeg reading one stream of path to the null muxer, reporting its progress as key=value lines on stdout."""
    return [
        FFMPEG,
        *QUIET,
        *input_args,
        *INPUT_ARGS,
        "-i",
        file_url(path),
        "-map",
        f"0:{stream}",
        *output_args,
        *("-f", "null", "-progress", "pipe:1", "-nostats", "-"),
    ]


def _demuxed_duration(path: Path, index: int, *, timeout: float) -> float | None:
    """Duration by reading every packet (no decode) when the container header does not state it."""
    last: list[float] = []

    def on_line(line: str) -> None:
        key, _, value = line.partition("=")
        if key == "out_time_us" and value.strip().lstrip("-").isdigit():
            last.append(int(value) / 1e6)

    cmd = _null_output_cmd(path, index, output_args=("-c", "copy"))
    done = run_ff(cmd, timeout=timeout, cwd=path.parent, file_size=0, on_stdout_line=on_line)
    return max(last) if done.returncode == 0 and last and max(last) > 0 else None


def _tail_decode(path: Path, info: ProbeInfo, *, timeout: float) -> None:
    """Decode the last second: a file cut short after its index (faststart MP4, MKV) decodes nothing there."""
    frames: list[int] = []

    def on_line(line: str) -> None:
        key, _, value = line.partition("=")
        if key == "frame" and value.strip().isdigit():
            frames.append(int(value))

    start = max(0.0, info.duration_s - TAIL_S)
    cmd = _null_output_cmd(path, info.video_index, input_args=("-ss", f"{start:.3f}"))
    done = run_ff(cmd, timeout=timeout, cwd=path.parent, file_size=0, on_stdout_line=on_line)
    if killed_by_us(done):
        raise MediaError(f"decode check killed (rc={done.returncode}): {done.stderr[-300:]!r}")
    if b"partial file" in done.stderr or b"ended prematurely" in done.stderr or not frames or frames[-1] == 0:
        raise Rejected("truncated")
    if done.returncode != 0:
        raise Rejected("unreadable")
    # The window covered the whole clip and held one picture: a photo in a video container (MKV has no nb_frames).
    if start == 0.0 and frames[-1] == 1:
        raise Rejected("no_video_stream")


def _parse(data: FFJson, size: int) -> tuple[ProbeInfo, float | None]:
    """Build ProbeInfo from ffprobe JSON; the duration may still be unknown (second element None)."""
    fmt, streams = data.get("format") or {}, data.get("streams") or []
    format_name = fmt.get("format_name") or ""
    if format_name not in ALLOWED_FORMATS:
        raise Rejected("container_not_allowed", format=fmt.get("format_long_name") or format_name or "unknown")
    video, audio = _pick_video(streams), _pick_audio(streams)
    # A lone frame (a photo wrapped in a container) is not a clip either.
    if video is None or str(video.get("nb_frames", "")) in ("0", "1"):
        raise Rejected("no_video_stream")
    codec = video.get("codec_name") or "unknown"
    if codec not in ALLOWED_VIDEO_CODECS:
        raise Rejected("codec_not_allowed", codec=CODEC_NAMES.get(codec, codec.upper()))
    width, height = display_size(video)
    if not width or not height:
        raise Rejected("unreadable")
    avg, real = fraction(video.get("avg_frame_rate")), fraction(video.get("r_frame_rate"))
    rate = avg or real
    if rate is None:
        raise Rejected("unreadable")
    duration = _float(fmt.get("duration")) or _float(video.get("duration"))
    bit_rate = _float(fmt.get("bit_rate"))
    info = ProbeInfo(
        format_name=format_name,
        duration_s=round(duration or 0.0, 3),
        width=width,
        height=height,
        fps=round(float(rate), 3),
        video_codec=codec,
        audio_codec=audio.get("codec_name") if audio else None,
        rotation=rotation_of(video),
        bit_rate=int(bit_rate) if bit_rate else None,
        size_bytes=size,
        coded_width=int(video.get("width") or 0),
        coded_height=int(video.get("height") or 0),
        pix_fmt=video.get("pix_fmt") or "",
        field_order=video.get("field_order") or "unknown",
        video_index=int(video["index"]),
        audio_index=int(audio["index"]) if audio else None,
        fps_rational=f"{rate.numerator}/{rate.denominator}",
        variable_frame_rate=bool(avg and real and abs(avg - real) / real > Fraction(1, 100)),
        base_rate=f"{real.numerator}/{real.denominator}" if real else "",
        color_transfer=video.get("color_transfer"),
        video_profile=video.get("profile") or "",
        video_level=_int(video.get("level")) or 0,
        video_bit_rate=_int(video.get("bit_rate")),
        color_range=video.get("color_range"),
        color_primaries=video.get("color_primaries"),
        audio_profile=audio.get("profile") if audio else None,
        audio_channels=(_int(audio.get("channels")) or 0) if audio else 0,
        audio_sample_rate=(_int(audio.get("sample_rate")) or 0) if audio else 0,
        audio_bit_rate=_int(audio.get("bit_rate")) if audio else None,
    )
    return info, duration if duration and duration > 0 else None


def probe_file(path: str | os.PathLike[str], *, timeout: float = 60) -> ProbeInfo:
    """Sniff, ffprobe and spot-decode a local upload; raises Rejected for anything we will not transcode."""
    path = Path(path)
    deadline = time.monotonic() + timeout
    size, head = _read_head(path)
    if size == 0:
        raise Rejected("empty_file")
    sniff(head)
    data, done = ffprobe_json(path, timeout=timeout)
    if data is None:
        raise _fail_probe(done)
    info, duration = _parse(data, size)
    check_hard_caps(info)
    if duration is None:
        duration = _demuxed_duration(path, info.video_index, timeout=max(1.0, deadline - time.monotonic()))
        if duration is None:
            raise Rejected("unreadable")
        # The last packet's timestamp is where the final frame starts; the clip ends one frame later.
        info = _replace_duration(info, duration + 1 / info.fps)
    _tail_decode(path, info, timeout=max(1.0, deadline - time.monotonic()))
    return info


def _replace_duration(info: ProbeInfo, duration: float) -> ProbeInfo:
    """Copy of info with a measured duration."""
    return replace(info, duration_s=round(duration, 3))


def format_duration(seconds: float, *, tenths: bool = False) -> str:
    """m:ss (h:mm:ss past an hour); tenths when whole seconds would hide the difference."""
    total = math.floor(seconds * 10) / 10 if tenths else math.floor(seconds)
    minutes, secs = divmod(total, 60)
    hours, minutes = divmod(int(minutes), 60)
    sec_text = f"{secs:04.1f}" if tenths else f"{int(secs):02d}"
    return f"{hours}:{minutes:02d}:{sec_text}" if hours else f"{minutes}:{sec_text}"


def _durations(value: float, limit: float) -> tuple[str, str]:
    """Format a duration and its limit so they never look equal."""
    a, b = format_duration(value), format_duration(limit)
    return (a, b) if a != b else (format_duration(value, tenths=True), format_duration(limit, tenths=True))


def check_hard_caps(info: ProbeInfo) -> None:
    """Limits that hold for every contest: picture size and frame rate (every broken one is reported)."""
    broken = _hard_cap_violations(info)
    if broken:
        raise Rejected.combine(broken)


def _hard_cap_violations(info: ProbeInfo) -> list[Rejected]:
    broken = []
    for w, h in ((info.width, info.height), (info.coded_width, info.coded_height)):
        if max(w, h) > MAX_SIDE or w * h > MAX_PIXELS:
            broken.append(
                Rejected(
                    "resolution_too_high",
                    size=f"{info.width}×{info.height}",
                    max_side=MAX_SIDE,
                    max_mpx=f"{MAX_PIXELS / 1e6:.1f}",
                )
            )
            break
    if not MIN_FPS - 0.001 <= info.fps <= MAX_FPS + 0.001:
        broken.append(Rejected("frame_rate_out_of_range", fps=f"{info.fps:g}", min=f"{MIN_FPS:g}", max=f"{MAX_FPS:g}"))
    return broken


def validate(info: ProbeInfo, rules: ClipRules) -> None:
    """Apply the hard caps and the contest's rules; raises one Rejected that lists every rule the clip breaks."""
    broken = _hard_cap_violations(info)
    if rules.min_height is not None and info.short_side < rules.min_height:
        broken.append(Rejected("resolution_too_low", size=f"{info.width}×{info.height}", min=rules.min_height))
    if rules.min_duration_s is not None and info.duration_s + DURATION_SLACK_S < rules.min_duration_s:
        shown, limit = _durations(info.duration_s, rules.min_duration_s)
        broken.append(Rejected("too_short", duration=shown, min=limit))
    if rules.max_duration_s is not None and info.duration_s - DURATION_SLACK_S > rules.max_duration_s:
        shown, limit = _durations(info.duration_s, rules.max_duration_s)
        broken.append(Rejected("too_long", duration=shown, max=limit))
    if broken:
        raise Rejected.combine(broken)
