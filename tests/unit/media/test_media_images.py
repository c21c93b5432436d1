"""Posters (two JPEG sizes, no upscaling, no metadata) and the storyboard sprite + WebVTT."""

from __future__ import annotations

import re
import subprocess

import pytest
from mediakit import FFMPEG, ffprobe, mean_luma

from media_worker.pipeline import make_posters, make_storyboard, probe_file, transcode
from media_worker.pipeline_images import storyboard_interval


def _size(path):
    (s,) = ffprobe(path, "-show_streams")["streams"]
    return int(s["width"]), int(s["height"])


@pytest.fixture(scope="module")
def seven(clips, tmp_path_factory):
    """A 7 s clip run through transcode once: (info, rendition, out_dir)."""
    out = tmp_path_factory.mktemp("seven")
    info = probe_file(clips["seven.mp4"])
    (r,) = transcode(clips["seven.mp4"], out, info)
    return info, r, out


@pytest.mark.parametrize(
    "name, big, small",
    [
        ("ladder.mp4", (1280, 720), (320, 180)),
        ("h264.mp4", (320, 240), (320, 240)),
        ("rot90.mp4", (240, 320), (240, 320)),
        ("portrait916.mp4", (360, 640), (320, 568)),
        ("anamorphic.mpg", (768, 576), (320, 240)),
    ],
)
def test_poster_sizes_keep_aspect_and_never_upscale(clips, tmp_path, name, big, small):
    info = probe_file(clips[name])
    posters = make_posters(clips[name], tmp_path, info)
    assert [p.name for p in posters] == ["poster", "poster_small"]
    assert [(p.width, p.height) for p in posters] == [big, small]
    assert [_size(p.path) for p in posters] == [big, small]
    for p in posters:
        assert p.path.read_bytes()[:3] == b"\xff\xd8\xff"


def test_poster_from_a_rendition_uses_the_renditions_size(clips, tmp_path):
    # The job wrapper passes the largest rendition with the *source's* ProbeInfo: no upscaling to source size.
    source = probe_file(clips["ladder.mp4"])
    rendition = tmp_path / "360p.mp4"
    subprocess.run(
        [
            FFMPEG,
            "-v",
            "error",
            "-i",
            str(clips["ladder.mp4"]),
            "-vf",
            "scale=640:360",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            str(rendition),
        ],
        check=True,
    )
    posters = make_posters(rendition, tmp_path, source)
    assert [(p.width, p.height) for p in posters] == [(640, 360), (320, 180)]


def test_posters_carry_no_metadata(clips, tmp_path):
    info = probe_file(clips["meta.mp4"])
    for p in make_posters(clips["meta.mp4"], tmp_path, info):
        raw = p.path.read_bytes()
        for needle in (b"Ward", b"Lavc", b"Lavf", b"Exif", b"+48.85"):
            assert needle not in raw, (p.name, needle)


def test_storyboard_sprite_and_vtt(seven, tmp_path):
    info, r, _ = seven
    board = make_storyboard(r.path, tmp_path, duration_s=info.duration_s, sprite_url="board.jpg")
    assert (board.interval_s, board.tile_w, board.tile_h, board.columns, board.count) == (2.0, 160, 120, 4, 4)
    assert _size(board.sprite_path) == (4 * 160, 120)
    text = board.vtt_path.read_text()
    assert text.startswith("WEBVTT\n\n")
    cues = re.findall(r"(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})\n(\S+)\n", text)
    assert [c[:2] for c in cues] == [
        ("00:00:00.000", "00:00:02.000"),
        ("00:00:02.000", "00:00:04.000"),
        ("00:00:04.000", "00:00:06.000"),
        ("00:00:06.000", "00:00:07.000"),
    ]
    assert [c[2] for c in cues] == [f"board.jpg#xywh={x},0,160,120" for x in (0, 160, 320, 480)]


def test_storyboard_last_tile_is_a_real_frame(seven, tmp_path):
    info, r, _ = seven
    board = make_storyboard(r.path, tmp_path, duration_s=info.duration_s)
    assert board.vtt_path.name == "storyboard.vtt" and "storyboard.jpg#xywh=" in board.vtt_path.read_text()
    # testsrc2 is colourful; an empty (padding) tile would be black.
    assert mean_luma(board.sprite_path, "160:120:480:0") > 30


def test_storyboard_grid_wraps_rows(seven, tmp_path):
    info, r, _ = seven
    board = make_storyboard(r.path, tmp_path, duration_s=info.duration_s, columns=3, tile_width=80)
    assert (board.columns, board.count, board.tile_w, board.tile_h) == (3, 4, 80, 60)
    assert _size(board.sprite_path) == (240, 120)
    assert board.vtt_path.read_text().rstrip().endswith("storyboard.jpg#xywh=0,60,80,60")


@pytest.mark.parametrize(
    "duration, interval", [(0.5, 2.0), (7, 2.0), (60, 2.0), (300, 4.0), (1000, 10.0), (3600, 36.0)]
)
def test_storyboard_interval(duration, interval):
    assert storyboard_interval(duration) == interval
