"""The quick path: which sources may have their top rung copied instead of encoded (pure rules), and what the copy
looks like (real ffmpeg on tiny generated clips): faststart, no tag, no SEI, the lower rungs still encoded."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from fractions import Fraction

import pytest
from mediakit import FFMPEG, ffprobe, probe_info

from media_worker.pipeline import ClipRules, probe_file, transcode, validate
from media_worker.pipeline_quick import PacketScan, default_max_bitrate, refusal, scan_packets, scan_refusal
from media_worker.pipeline_transcode import build_command, output_rate, plan_ladder, quick_refusal
from media_worker.pipeline_types import ProbeInfo


def export(**changes) -> ProbeInfo:
    """An editor's 1080p30 H.264 High / AAC export at 8 Mbit/s: the source the quick path is for."""
    container = {"duration_s": 60.0, "bit_rate": 8_200_000, "size_bytes": 61_500_000}
    video = {"video_profile": "High", "video_level": 40, "video_bit_rate": 8_000_000}
    colour = {"color_range": "tv", "color_primaries": "bt709", "color_transfer": "bt709"}
    audio = {"audio_profile": "LC", "audio_channels": 2, "audio_sample_rate": 48_000, "audio_bit_rate": 128_000}
    return replace(probe_info(**container, **video, **colour, **audio), **changes)


def why(info: ProbeInfo, max_bitrate: int | None = None) -> str | None:
    """The static refusal for info against its own ladder (max_bitrate None: the default, twice the top cap)."""
    top = plan_ladder(info)[-1]
    limit = default_max_bitrate(top) if max_bitrate is None else max_bitrate
    return refusal(info, top, output_rate(info), max_bitrate=limit)


QUALIFY = {
    "the issue's export": {},
    "Main profile": {"video_profile": "Main"},
    "Constrained Baseline, level 4.2": {"video_profile": "Constrained Baseline", "video_level": 42},
    "no audio": {"audio_index": None, "audio_codec": None, "audio_profile": None, "audio_channels": 0},
    "mono 44.1 kHz": {"audio_channels": 1, "audio_sample_rate": 44_100},
    "12 Mbit/s, the default limit": {"video_bit_rate": 12_000_000},
    "Matroska": {"format_name": "matroska,webm"},
    "stream bitrate unknown, file's under the limit": {"video_bit_rate": None, "bit_rate": 9_000_000},
    "audio bitrate unknown": {"audio_bit_rate": None},
    "colour unspecified": {"color_range": None, "color_primaries": None, "color_transfer": None},
    "29.97 fps": {"fps": 29.97, "fps_rational": "30000/1001", "base_rate": "30000/1001"},
    "1080p60 at 16 Mbit/s (the cap is 1.5x above 30 fps)": {
        "fps": 60.0,
        "fps_rational": "60/1",
        "base_rate": "60/1",
        "video_bit_rate": 16_000_000,
    },
    "portrait 1080x1920 as coded": {"width": 1080, "height": 1920, "coded_width": 1080, "coded_height": 1920},
    "720p": {"width": 1280, "height": 720, "coded_width": 1280, "coded_height": 720, "video_bit_rate": 5_000_000},
    "a small clip that is its own single rung": {
        "width": 320,
        "height": 240,
        "coded_width": 320,
        "coded_height": 240,
        "video_bit_rate": 500_000,
    },
}


@pytest.mark.parametrize("changes", QUALIFY.values(), ids=QUALIFY.keys())
def test_sources_that_qualify(changes):
    assert why(export(**changes)) is None


REFUSE = {
    "MPEG-TS": ({"format_name": "mpegts"}, "container"),
    "AVI": ({"format_name": "avi"}, "container"),
    "HEVC": ({"video_codec": "hevc", "video_profile": "Main"}, "codec"),
    "High 10": ({"video_profile": "High 10"}, "profile"),
    "High 4:2:2": ({"video_profile": "High 4:2:2"}, "profile"),
    "profile unknown": ({"video_profile": ""}, "profile"),
    "level 5.1": ({"video_level": 51}, "level 5.1"),
    "level unknown": ({"video_level": 0}, "level unknown"),
    "10-bit": ({"pix_fmt": "yuv420p10le"}, "pixel format"),
    "4:2:2": ({"pix_fmt": "yuv422p"}, "pixel format"),
    "full range (yuvj420p)": ({"pix_fmt": "yuvj420p"}, "pixel format"),
    "full range flag": ({"color_range": "pc"}, "full range"),
    "HLG": ({"color_transfer": "arib-std-b67"}, "HDR"),
    "PQ": ({"color_transfer": "smpte2084"}, "HDR"),
    "BT.2020 primaries": ({"color_primaries": "bt2020"}, "wide-gamut"),
    "interlaced": ({"field_order": "tt"}, "field order"),
    "field order unknown": ({"field_order": "unknown"}, "field order"),
    "rotated phone clip": (
        {"rotation": 90, "width": 1080, "height": 1920, "coded_width": 1920, "coded_height": 1080},
        "rotated",
    ),
    "anamorphic": ({"width": 1920, "coded_width": 1440}, "non-square"),
    "4K": ({"width": 3840, "height": 2160, "coded_width": 3840, "coded_height": 2160}, "3840x2160"),
    "1440p": ({"width": 2560, "height": 1440, "coded_width": 2560, "coded_height": 1440}, "2560x1440"),
    "120 fps": ({"fps": 120.0, "fps_rational": "120/1", "base_rate": "120/1"}, "120 fps"),
    "not a rung's size (1600x900, top rung 720p)": (
        {"width": 1600, "height": 900, "coded_width": 1600, "coded_height": 900},
        "not the top rung",
    ),
    "odd width": ({"width": 1279, "height": 720, "coded_width": 1279, "coded_height": 720}, "not the top rung"),
    "variable frame rate": ({"variable_frame_rate": True, "fps_rational": "2961/100"}, "frame rate"),
    "29.6 fps CFR (snapped to 29.97 by the full path)": (
        {"fps": 29.6, "fps_rational": "148/5", "base_rate": "148/5"},
        "frame rate",
    ),
    "12.1 Mbit/s": ({"video_bit_rate": 12_100_000}, "above 12.0"),
    "bitrate unknown": ({"video_bit_rate": None, "bit_rate": None}, "bitrate unknown"),
    "file bitrate above the limit, stream unknown": ({"video_bit_rate": None, "bit_rate": 13_000_000}, "above"),
    "MP3 audio": ({"audio_codec": "mp3", "audio_profile": None}, "audio mp3"),
    "Opus audio": ({"audio_codec": "opus", "audio_profile": None}, "audio opus"),
    "HE-AAC": ({"audio_profile": "HE-AAC"}, "HE-AAC"),
    "5.1 AAC": ({"audio_channels": 6}, "6 channels"),
    "32 kHz": ({"audio_sample_rate": 32_000}, "32000 Hz"),
    "AAC at 512 kbit/s": ({"audio_bit_rate": 512_000}, "512 kbit/s"),
}


@pytest.mark.parametrize("changes, words", REFUSE.values(), ids=REFUSE.keys())
def test_sources_that_take_the_full_path(changes, words):
    reason = why(export(**changes))
    assert reason is not None and words in reason


def test_the_bitrate_limit_is_twice_the_top_cap_unless_set():
    assert default_max_bitrate(plan_ladder(export())[-1]) == 12_000_000
    assert default_max_bitrate(plan_ladder(export(fps=60.0, fps_rational="60/1", base_rate="60/1"))[-1]) == 18_000_000
    assert why(export(video_bit_rate=15_000_000), max_bitrate=20_000_000) is None
    assert "above 5.0" in why(export(), max_bitrate=5_000_000)
    assert why(export(), max_bitrate=0) == "quick path disabled"


def frames(n: int, rate: float = 30.0, *, gop: int = 60, start: float = 0.0, step_ms: bool = False):
    """PacketScan of n frames at rate with a keyframe every gop frames; step_ms rounds to Matroska's 1 ms."""
    times = [start + i / rate for i in range(n)]
    if step_ms:
        times = [round(t, 3) for t in times]
    return PacketScan(tuple(times), tuple(times[::gop]))


RATE30 = Fraction(30)


def test_scan_accepts_a_cfr_stream_with_2_s_gop():
    assert scan_refusal(frames(1800), RATE30, 60.0) is None
    assert scan_refusal(frames(1800, start=0.021, step_ms=True), RATE30, 60.0) is None  # Matroska timestamps
    assert scan_refusal(frames(1799, 30000 / 1001), Fraction(30000, 1001), 60.0) is None
    assert scan_refusal(frames(150, gop=150), RATE30, 5.0) is None  # one keyframe, 5 s clip: exactly the limit


@pytest.mark.parametrize(
    "scan, duration, words",
    [
        (frames(1800, gop=180), 60.0, "keyframes 6.0 s apart"),
        (frames(210, gop=300), 7.0, "keyframes 7.0 s apart"),  # one keyframe, then 7 s to the end
        (PacketScan((0.0, 1 / 30, 2 / 30), (1 / 30,)), 0.1, "keyframe"),
        (PacketScan((), ()), 0.0, "keyframe"),
        (PacketScan((*frames(90).times[:45], *frames(90).times[46:]), (0.0, 2.0)), 3.0, "constant"),  # a dropped frame
        (frames(1800, 25.0, gop=50), 72.0, "constant"),  # 25 fps packets in a stream said to be 30 fps
    ],
)
def test_scan_refuses_sparse_keyframes_and_uneven_timing(scan, duration, words):
    reason = scan_refusal(scan, RATE30, duration)
    assert reason is not None and words in reason


# --- real ffmpeg on tiny clips -------------------------------------------------------------------------------------


def _sei_nal_units(path) -> int:
    """How many SEI NAL units the file's video stream carries (trace_headers, no decode)."""
    cmd = [FFMPEG, "-nostdin", "-hide_banner", "-i", str(path), "-map", "0:v", "-c", "copy"]
    cmd += ["-bsf:v", "trace_headers", "-f", "null", "-"]
    err = subprocess.run(cmd, check=True, capture_output=True, text=True).stderr
    return sum(1 for line in err.splitlines() if "nal_unit_type" in line and line.rstrip().endswith("= 6"))


def _decoded_md5(path) -> str:
    cmd = [FFMPEG, "-nostdin", "-v", "error", "-i", str(path), "-map", "0:v", "-f", "md5", "-"]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()


def test_packet_scan_reads_keyframes_and_timing(clips):
    for name, keys in (("quick.mp4", [0.0, 1.0, 2.0]), ("longgop.mp4", [0.0])):
        info = probe_file(clips[name])
        scan = scan_packets(clips[name], info, timeout=30)
        assert len(scan.times) == round(info.duration_s * 30) and [round(k, 3) for k in scan.keyframes] == keys
    mkv = probe_file(clips["plain.mkv"])
    assert scan_refusal(scan_packets(clips["plain.mkv"], mkv, timeout=30), Fraction(30), mkv.duration_s) is None


def test_an_editor_export_is_copied_without_tags_or_sei(clips, tmp_path):
    src = clips["quick.mp4"]
    assert _sei_nal_units(src) >= 1 and b"Ward 7 camera" in src.read_bytes()  # identity in SEI user data...
    assert "Ward" in str(ffprobe(src))  # ...and in the tags
    info = probe_file(src)
    validate(info, ClipRules())
    (r,) = transcode(src, tmp_path / "out", info)
    assert r.copied and (r.name, r.width, r.height) == ("360p", 640, 360)
    assert _decoded_md5(r.path) == _decoded_md5(src), "a copy decodes to the source's very pictures"
    out = ffprobe(r.path, "-show_format", "-show_streams", "-show_chapters")
    assert out["chapters"] == [] and set(out["format"].get("tags", {})) <= {
        "major_brand",
        "minor_version",
        "compatible_brands",
    }
    for stream in out["streams"]:
        assert set(stream.get("tags", {})) <= {"language", "handler_name", "vendor_id"}, stream.get("tags")
        assert stream.get("tags", {}).get("language", "und") == "und"
    assert _sei_nal_units(r.path) == 0
    raw = r.path.read_bytes()
    for needle in (b"Ward", b"Clerk", b"+48.85", b"Lavf", b"x264 - core"):
        assert needle not in raw, needle
    head = raw[: 1 << 16]
    assert 0 <= head.find(b"moov") < head.find(b"mdat"), "faststart: the index comes first"


@pytest.mark.slow  # a 720p clip made and a 360p rung encoded
def test_the_copy_is_the_top_rung_and_lower_rungs_are_still_encoded(clips, tmp_path):
    src = clips["quick720.mp4"]
    info = probe_file(src)
    renditions = transcode(src, tmp_path / "out", info)
    assert [(r.name, r.width, r.height, r.copied) for r in renditions] == [
        ("360p", 640, 360, False),
        ("720p", 1280, 720, True),
    ]
    lower = ffprobe(renditions[0].path)["streams"]
    assert [(s["codec_name"], s.get("profile")) for s in lower] == [("h264", "High"), ("aac", "LC")]
    # One process, one decode: the graph splits nothing (a single encoded rung) and the copy maps the input.
    cmd = build_command(src, tmp_path, info, plan_ladder(info), copy_top=True)
    assert cmd.count("-i") == 1 and "split" not in " ".join(cmd) and cmd.count("libx264") == 1
    assert "filter_units=remove_types=6" in cmd


def test_quick_path_can_be_switched_off_and_a_long_gop_takes_the_full_path(clips, tmp_path):
    info = probe_file(clips["quick.mp4"])
    assert quick_refusal(clips["quick.mp4"], info, plan_ladder(info), max_bitrate=0, timeout=30)
    (r,) = transcode(clips["quick.mp4"], tmp_path / "a", info, quick_max_bitrate=0)
    assert not r.copied and ffprobe(r.path)["streams"][0]["profile"] == "High"
    long_gop = probe_file(clips["longgop.mp4"])
    reason = quick_refusal(clips["longgop.mp4"], long_gop, plan_ladder(long_gop), max_bitrate=None, timeout=30)
    assert reason == "keyframes 7.0 s apart"
    (r,) = transcode(clips["longgop.mp4"], tmp_path / "b", long_gop)
    assert not r.copied
