"""probe_file and validate: facts about good inputs, and one clear rejection per bad case."""

from __future__ import annotations

import os
import shutil

import pytest
from mediakit import ffprobe

from media_worker.pipeline import ClipRules, MediaError, Rejected, probe_file, validate
from media_worker.pipeline_probe import format_duration, sniff


def _copy(clips, name, tmp_path, *, keep=None):
    """Copy a clip into a private job dir, optionally keeping only the first `keep` fraction of its bytes."""
    job = tmp_path / "job"
    job.mkdir(exist_ok=True)
    target = job / name
    data = clips[name].read_bytes()
    target.write_bytes(data if keep is None else data[: int(len(data) * keep)])
    return target


def _rejected(path, **kw) -> str:
    with pytest.raises(Rejected) as caught:
        probe_file(path, **kw)
    return caught.value.code


def test_probe_facts(clips):
    info = probe_file(clips["h264.mp4"])
    assert (info.width, info.height, info.fps, info.video_codec, info.audio_codec) == (320, 240, 30.0, "h264", "aac")
    assert info.format_name == "mov,mp4,m4a,3gp,3g2,mj2" and info.rotation == 0
    assert info.duration_s == pytest.approx(2.0, abs=0.1)
    assert info.size_bytes == os.path.getsize(clips["h264.mp4"]) and info.bit_rate > 0


@pytest.mark.parametrize(
    "name, rotation, size",
    [("rot90.mp4", 90, (240, 320)), ("rot270.mp4", 270, (240, 320)), ("rot180.mp4", 180, (320, 240))],
)
def test_rotation_gives_display_dimensions(clips, name, rotation, size):
    info = probe_file(clips[name])
    assert (info.rotation, (info.width, info.height)) == (rotation, size)
    assert (info.coded_width, info.coded_height) == (320, 240)


def test_anamorphic_width_is_display_width(clips):
    info = probe_file(clips["anamorphic.mpg"])
    assert (info.width, info.height) == (768, 576)


def test_interlaced_and_vfr_are_detected(clips):
    assert probe_file(clips["interlaced.ts"]).interlaced
    assert not probe_file(clips["h264.mp4"]).interlaced
    vfr = probe_file(clips["vfr.mp4"])
    assert vfr.variable_frame_rate and vfr.base_rate == "30/1"


def test_duration_missing_from_the_header_is_measured(clips):
    assert ffprobe(clips["live.webm"], "-show_format")["format"].get("duration") is None
    assert probe_file(clips["live.webm"]).duration_s == pytest.approx(2.0, abs=0.05)


def test_several_audio_tracks_pick_the_first(clips):
    info = probe_file(clips["multiaudio.mkv"])
    assert info.audio_index == 1 and info.audio_codec == "aac"


def test_no_audio_is_fine(clips):
    assert probe_file(clips["noaudio.mp4"]).audio_codec is None


def test_empty_file(tmp_path):
    (tmp_path / "empty.mp4").write_bytes(b"")
    assert _rejected(tmp_path / "empty.mp4") == "empty_file"


@pytest.mark.parametrize(
    "content",
    [
        b"hello, this is a letter to the jury\n",
        os.urandom(4096),
        b"#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n",
        b"<?xml version='1.0'?><MPD/>",
        b"RIFF\x00\x00\x00\x00CDXA",
    ],
)
def test_not_media(tmp_path, content):
    (tmp_path / "x.mp4").write_bytes(content)
    assert _rejected(tmp_path / "x.mp4") == "not_media"


@pytest.mark.parametrize("name", ["audio.m4a", "photo.jpg", "still.mkv"])
def test_no_video_stream(clips, name):
    assert _rejected(clips[name]) == "no_video_stream"


@pytest.mark.parametrize("name", ["faststart.mp4", "plain.mp4", "plain.mkv"])
def test_cut_in_half_is_truncated(clips, tmp_path, name):
    # plain.mp4 loses its moov; faststart.mp4 and mkv still probe and are caught by the tail decode.
    assert _rejected(_copy(clips, name, tmp_path, keep=0.5)) == "truncated"


def test_container_not_allowed(clips):
    with pytest.raises(Rejected) as caught:
        probe_file(clips["flash.flv"])
    assert caught.value.code == "container_not_allowed" and caught.value.params == {"format": "FLV"}


def test_codec_not_allowed(clips):
    with pytest.raises(Rejected) as caught:
        probe_file(clips["ffv1.mkv"])
    assert caught.value.code == "codec_not_allowed" and caught.value.params == {"codec": "FFV1"}


def test_resolution_above_hard_cap(clips):
    with pytest.raises(Rejected) as caught:
        probe_file(clips["huge.mp4"])
    assert caught.value.code == "resolution_too_high" and caught.value.params["size"] == "4160×64"


@pytest.mark.parametrize("name", ["slow.mp4", "fast.mkv"])
def test_frame_rate_out_of_range(clips, name):
    assert _rejected(clips[name]) == "frame_rate_out_of_range"


def test_duration_rules(clips):
    info = probe_file(clips["h264.mp4"])
    validate(info, ClipRules(min_duration_s=1, max_duration_s=3))
    validate(info, ClipRules(min_duration_s=2.4))  # container slack
    with pytest.raises(Rejected) as short:
        validate(info, ClipRules(min_duration_s=30))
    assert short.value.code == "too_short" and short.value.params == {"duration": "0:02", "min": "0:30"}
    with pytest.raises(Rejected) as long_:
        validate(info, ClipRules(max_duration_s=1))
    assert long_.value.code == "too_long" and long_.value.params == {"duration": "0:02", "max": "0:01"}


def test_min_height_uses_the_short_side(clips):
    portrait = probe_file(clips["portrait916.mp4"])  # 360x640
    validate(portrait, ClipRules(min_height=360))
    with pytest.raises(Rejected) as caught:
        validate(portrait, ClipRules(min_height=480))
    assert caught.value.code == "resolution_too_low" and caught.value.params == {"size": "360×640", "min": 480}


def test_format_duration():
    assert format_duration(125.9) == "2:05"
    assert format_duration(3725) == "1:02:05"
    assert format_duration(60.44, tenths=True) == "1:00.4"


def test_sniff_families():
    assert sniff(b"\x00\x00\x00\x20ftypisom") == "mov"
    assert sniff(b"\x1a\x45\xdf\xa3rest") == "matroska"
    assert sniff(b"RIFF\x00\x00\x00\x00AVI LIST") == "avi"
    assert sniff(bytes([0x47] + [0] * 187) * 3) == "mpegts"
    assert sniff(b"\x00\x00\x01\xba\x44") == "mpeg"
    for still in (b"\x00\x00\x00\x18ftypheic", b"\xff\xd8\xff\xe0", b"\x89PNG\r\n", b"ID3\x04", b"RIFF\0\0\0\0WAVE"):
        with pytest.raises(Rejected, match="^no_video_stream$"):
            sniff(still)


def test_missing_input_is_infrastructure(tmp_path):
    with pytest.raises(MediaError):
        probe_file(tmp_path / "nope.mp4")


def test_probe_timeout_is_media_error(clips, tmp_path):
    shutil.copy(clips["h264.mp4"], tmp_path / "a.mp4")
    with pytest.raises(MediaError):
        probe_file(tmp_path / "a.mp4", timeout=0.001)


def test_a_clip_breaking_several_rules_is_rejected_for_every_one(clips):
    """Issue 12: too short and too low at once reports both, in the order the rules are checked."""
    info = probe_file(clips["h264.mp4"])
    with pytest.raises(Rejected) as caught:
        validate(info, ClipRules(min_duration_s=30, min_height=1080))
    assert [code for code, _ in caught.value.rejections] == ["resolution_too_low", "too_short"]
    assert (caught.value.code, caught.value.params["min"]) == ("resolution_too_low", 1080)
