"""transcode: one ffmpeg for the whole ladder, browser-safe H.264/AAC, upright, CFR, and nothing of the source's
metadata left for blind judging."""

from __future__ import annotations

import subprocess
from fractions import Fraction

import pytest
from mediakit import FFMPEG, ffprobe, mean_luma, probe_info

from media_worker import pipeline_transcode
from media_worker.pipeline import ClipRules, MediaError, probe_file, transcode, validate
from media_worker.pipeline_quick import PROFILES
from media_worker.pipeline_transcode import Progress, output_rate, plan_ladder

ALLOWED_FORMAT_TAGS = {"major_brand", "minor_version", "compatible_brands"}
ALLOWED_STREAM_TAGS = {
    "language": {"und"},
    "handler_name": {"VideoHandler", "SoundHandler"},
    "vendor_id": {"[0][0][0][0]"},
    "encoder": {"Lavc libx264"},
}


def _run(clips, name, tmp_path, **kw):
    info = probe_file(clips[name])
    validate(info, ClipRules())
    return info, transcode(clips[name], tmp_path / "out", info, **kw)


def _streams(path):
    data = ffprobe(path)
    video = [s for s in data["streams"] if s["codec_type"] == "video"]
    audio = [s for s in data["streams"] if s["codec_type"] == "audio"]
    assert len(video) == 1 and len(audio) <= 1
    return data, video[0], (audio[0] if audio else None)


def _assert_browser_safe(rendition, *, audio: bool):
    data, v, a = _streams(rendition.path)
    if rendition.copied:  # the quick path: the source's own H.264 and AAC, as pipeline_quick lets through
        assert (v["codec_name"], v["pix_fmt"]) == ("h264", "yuv420p") and v["profile"] in PROFILES
        assert int(v["level"]) <= 42
    else:
        assert (v["codec_name"], v["profile"], v["pix_fmt"]) == ("h264", "High", "yuv420p")
    assert (int(v["width"]), int(v["height"])) == (rendition.width, rendition.height)
    assert rendition.width % 2 == 0 and rendition.height % 2 == 0
    assert v.get("field_order", "progressive") == "progressive"
    assert v["r_frame_rate"] == v["avg_frame_rate"], "output must be constant frame rate"
    assert v.get("sample_aspect_ratio", "1:1") in ("1:1", "N/A")
    assert not any("rotation" in sd and sd["rotation"] for sd in v.get("side_data_list", [])), "rotation left"
    if audio and rendition.copied:
        assert a is not None
        assert (a["codec_name"], a["profile"]) == ("aac", "LC") and a["sample_rate"] in ("44100", "48000")
        assert a["channels"] in (1, 2)
    elif audio:
        assert a is not None
        assert (a["codec_name"], a["sample_rate"], a["channels"]) == ("aac", "48000", 2)
    else:
        assert a is None
    # faststart: moov before mdat so browsers can start playing before the download ends.
    head = rendition.path.read_bytes()[: 1 << 16]
    assert 0 <= head.find(b"moov") < (head.find(b"mdat") if b"mdat" in head else len(head) + 1)
    assert rendition.size_bytes == rendition.path.stat().st_size and rendition.bitrate > 0
    return v, a


KINDS = [  # name, expected (w, h) of the single rung, has audio
    ("h264.mp4", (320, 240), True),
    ("hevc.mp4", (320, 240), True),
    ("vp9.webm", (320, 240), True),
    ("mpeg4.avi", (320, 240), True),
    ("mjpeg.mov", (320, 240), True),
    ("mpeg2.ts", (320, 240), True),
    ("mpeg2.mpg", (320, 240), True),
    ("10bit.mp4", (320, 240), True),
    ("422.mp4", (320, 240), True),
    ("444.mkv", (320, 240), True),
    ("noaudio.mp4", (320, 240), False),
    ("odd.mp4", (320, 240), False),
    ("rot90.mp4", (240, 320), True),
    ("rot270.mp4", (240, 320), True),
    ("rot180.mp4", (320, 240), True),
    ("portrait916.mp4", (360, 640), True),
    ("interlaced.ts", (450, 360), False),
    ("anamorphic.mpg", (480, 360), False),
    ("multiaudio.mkv", (320, 240), True),
    ("vfr.mp4", (320, 240), True),
    ("live.webm", (320, 240), False),
]


# H.264 + AAC kinds that are their own single rung. Encoded with x264 ultrafast they are above the default quick-path
# bitrate limit, so they take the full path by default; with a higher QUICK_MAX_BITRATE they take the quick path (top
# rung copied). Both paths must pass the same checks.
QUICK_KINDS = {"h264.mp4", "noaudio.mp4", "portrait916.mp4", "multiaudio.mkv"}
QUICK_MAX_BITRATE = {"default": None, "quick": 50_000_000}
PATHS = [(*k, "default") for k in KINDS] + [(*k, "quick") for k in KINDS if k[0] in QUICK_KINDS]


@pytest.mark.slow  # a real transcode per input kind: 25 of them, ~25 s in all
@pytest.mark.parametrize("name, size, audio, path", PATHS, ids=[f"{p[0]}-{p[3]}" for p in PATHS])
def test_input_kinds(clips, tmp_path, name, size, audio, path):
    info, renditions = _run(clips, name, tmp_path, quick_max_bitrate=QUICK_MAX_BITRATE[path])
    assert len(renditions) == 1
    (r,) = renditions
    assert r.copied is (path == "quick")
    assert (r.width, r.height) == size
    v, a = _assert_browser_safe(r, audio=audio)
    assert float(v["duration"]) == pytest.approx(info.duration_s, abs=0.15)
    if a is not None:
        # A/V stay together (VFR included): the tracks end within a few frames of each other.
        assert float(a["duration"]) == pytest.approx(float(v["duration"]), abs=0.15)


def test_rotated_output_is_turned_pixels_not_a_flag(clips, tmp_path):
    # The source's white top half must end up on the right after a 90° clockwise display rotation.
    _, (r,) = _run(clips, "marked90.mp4", tmp_path)
    _, v, _ = _streams(r.path)
    assert (int(v["width"]), int(v["height"])) == (240, 320) and "side_data_list" not in v
    left, right = mean_luma(r.path, "100:320:0:0"), mean_luma(r.path, "100:320:140:0")
    assert right > 200 and left < 50


@pytest.mark.slow
def test_ladder_is_one_process_smallest_first_no_upscale(clips, tmp_path):
    info, renditions = _run(clips, "ladder.mp4", tmp_path, quick_max_bitrate=0)
    assert [(r.name, r.width, r.height) for r in renditions] == [
        ("360p", 640, 360),
        ("720p", 1280, 720),
        ("1080p", 1920, 1080),
    ]
    for r in renditions:
        _assert_browser_safe(r, audio=True)
    cmd = pipeline_transcode.build_command(clips["ladder.mp4"], tmp_path, info, plan_ladder(info))
    assert cmd.count("-i") == 1 and "split=3" in " ".join(cmd)
    outputs = [a for a in cmd if a.startswith(f"file:{tmp_path}/")]
    assert [o.rsplit("/", 1)[1] for o in outputs] == ["360p.mp4", "720p.mp4", "1080p.mp4"]


def test_big_source_is_resampled_and_tone_mapped_once_at_the_top_rung(tmp_path):
    # A 4K HLG phone clip: one scale reads 4K frames, the float tone map runs at 1080p, the lower rungs are cut from
    # the 1080p picture after the split and the 1080p rung needs no second scale.
    info = probe_info(3840, 2160, video_codec="hevc", pix_fmt="yuv420p10le", color_transfer="arib-std-b67")
    cmd = pipeline_transcode.build_command(tmp_path / "in.mp4", tmp_path, info, plan_ladder(info))
    graph = cmd[cmd.index("-filter_complex") + 1].split(";")
    scales = [f.split("]")[1].split("[")[0] for f in graph if "]scale=" in f]
    assert scales == [
        "scale=1920:1080",
        "scale=1920:1080:out_range=tv",
        "scale=640:360:out_range=tv",
        "scale=1280:720:out_range=tv",
    ]
    order = [f.split("]")[1].split("=")[0] for f in graph]
    assert order.index("scale") < order.index("zscale") < order.index("split")
    assert [f for f in graph if "]zscale=" in f and "t=linear" in f] and order.count("tonemap") == 1


def test_deinterlacing_only_when_field_order_says_so(clips, tmp_path):
    for name, expected in (("interlaced.ts", True), ("mpeg2.ts", False), ("mpeg4.avi", False)):
        info = probe_file(clips[name])
        cmd = " ".join(pipeline_transcode.build_command(clips[name], tmp_path, info, plan_ladder(info)))
        assert ("bwdif" in cmd) is expected, name


def test_gop_is_two_seconds_without_scenecut_drift(clips, tmp_path):
    _, (r,) = _run(clips, "seven.mp4", tmp_path)
    frames = ffprobe(r.path, "-select_streams", "v", "-show_entries", "frame=key_frame,pts_time")["frames"]
    keys = [round(float(f["pts_time"]), 2) for f in frames if f["key_frame"] == 1]
    assert keys == [0.0, 2.0, 4.0, 6.0]


def test_hdr_is_tone_mapped_to_sdr(clips, tmp_path):
    info, (r,) = _run(clips, "hlg.mp4", tmp_path)
    assert info.color_transfer == "arib-std-b67"
    v, _ = _assert_browser_safe(r, audio=False)
    assert (v["color_transfer"], v["color_primaries"], v["color_space"]) == ("bt709", "bt709", "bt709")


def test_first_audio_track_is_the_one_used(clips, tmp_path):
    # Track 1 is a 440 Hz tone, track 2 is 5.1 silence: the output must not be silent.
    _, (r,) = _run(clips, "multiaudio.mkv", tmp_path)
    cmd = [FFMPEG, "-nostdin", "-i", str(r.path), "-map", "0:a", "-af", "volumedetect", "-f", "null", "-"]
    err = subprocess.run(cmd, capture_output=True, text=True).stderr
    mean = float(err.split("mean_volume:")[1].split("dB")[0])
    assert mean > -40


@pytest.mark.parametrize("path", ["quick", "full"])
def test_no_input_metadata_survives(clips, tmp_path, path):
    src = ffprobe(clips["meta.mp4"], "-show_format", "-show_streams", "-show_chapters")
    assert "Ward" in str(src)  # the fixture really carries identifying tags
    _, (r,) = _run(clips, "meta.mp4", tmp_path, quick_max_bitrate=0 if path == "full" else 50_000_000)
    assert r.copied is (path == "quick")
    out = ffprobe(r.path, "-show_format", "-show_streams", "-show_chapters")
    assert out["chapters"] == []
    assert set(out["format"].get("tags", {})) <= ALLOWED_FORMAT_TAGS
    for stream in out["streams"]:
        for key, value in stream.get("tags", {}).items():
            assert value in ALLOWED_STREAM_TAGS.get(key, ()), f"{key}={value} leaked"
    raw = r.path.read_bytes()
    for needle in (b"Ward", b"Lavf", b"+48.85", b"Clerk", b"fin"):
        assert needle not in raw, needle


def test_progress_reports_monotonic_fractions_ending_at_one(clips, tmp_path):
    seen = []
    _run(clips, "seven.mp4", tmp_path, on_progress=seen.append)
    assert seen and seen[-1] == 1.0
    assert all(0.0 <= x <= 1.0 for x in seen) and seen == sorted(seen)


def test_progress_is_throttled(monkeypatch):
    clock = iter([0.0, 0.1, 0.2, 0.6, 0.7, 1.2, 1.3])
    monkeypatch.setattr(pipeline_transcode.time, "monotonic", lambda: next(clock))
    seen = []
    p = Progress(10.0, seen.append)
    for us in (1, 2, 3, 4, 5, 6):
        p.feed(f"out_time_us={us * 1_000_000}")
    p.feed("out_time_us=N/A")
    p.feed("progress=end")
    assert seen == [0.1, 0.4, 0.6, 1.0]


def test_timeout_is_media_error_and_cleans_up(clips, tmp_path):
    info = probe_file(clips["ladder.mp4"])
    with pytest.raises(MediaError):
        transcode(clips["ladder.mp4"], tmp_path / "out", info, timeout=0.2)
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize(
    "size, expected",
    [
        ((1920, 1080), [("360p", 640, 360), ("720p", 1280, 720), ("1080p", 1920, 1080)]),
        ((1080, 1920), [("360p", 360, 640), ("720p", 720, 1280), ("1080p", 1080, 1920)]),
        ((3840, 2160), [("360p", 640, 360), ("720p", 1280, 720), ("1080p", 1920, 1080)]),
        ((1000, 1000), [("360p", 360, 360), ("720p", 720, 720)]),
        ((641, 361), [("360p", 640, 360)]),
        ((321, 241), [("240p", 320, 240)]),
        ((175, 99), [("98p", 174, 98)]),
    ],
)
def test_plan_ladder(size, expected):
    assert [(r.name, r.width, r.height) for r in plan_ladder(probe_info(*size))] == expected


@pytest.mark.parametrize(
    "rate, base, vfr, expected",
    [
        ("30/1", "30/1", False, Fraction(30)),
        ("30000/1001", "30000/1001", False, Fraction(30000, 1001)),
        ("2961/100", "600/1", True, Fraction(30000, 1001)),
        ("125/7", "30/1", True, Fraction(30)),
        ("120/1", "120/1", False, Fraction(60)),
        ("240/1", "240/1", False, Fraction(60)),
        ("100/1", "100/1", False, Fraction(50)),
        ("15/1", "15/1", False, Fraction(15)),
        ("25/1", "25/1", False, 25),
    ],
)
def test_output_rate(rate, base, vfr, expected):
    assert output_rate(probe_info(fps_rational=rate, base_rate=base, variable_frame_rate=vfr)) == expected


def test_thread_setting_reaches_decoder_filters_and_every_encoder(tmp_path):
    info = probe_info()
    default = pipeline_transcode.build_command(tmp_path / "in.mp4", tmp_path, info, plan_ladder(info))
    assert "-threads" not in default and "-filter_complex_threads" not in default
    cmd = pipeline_transcode.build_command(tmp_path / "in.mp4", tmp_path, info, plan_ladder(info), threads=1)
    assert cmd.index("-threads") < cmd.index("-i")  # the decoder's
    assert cmd.count("-threads") == 1 + 3 and cmd[cmd.index("-filter_complex_threads") + 1] == "1"
