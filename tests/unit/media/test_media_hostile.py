"""Text masquerading as video (HLS, ffconcat, DASH saved as .mp4) must not make ffmpeg reach the network or any file
outside the job directory, must be Rejected, and must leave no output behind."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from mediakit import probe_info

from media_worker import pipeline_probe, sandbox
from media_worker.pipeline import MediaError, Rejected, make_posters, make_storyboard, probe_file, transcode


def hls(port: int) -> str:
    return (
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n"
        "#EXTINF:2.0,\n../outside/secret.ts\n"
        f"#EXTINF:2.0,\nhttp://127.0.0.1:{port}/segment.ts\n#EXT-X-ENDLIST\n"
    )


def ffconcat(port: int) -> str:
    return f"ffconcat version 1.0\nfile '../outside/secret.ts'\nfile 'http://127.0.0.1:{port}/clip.mp4'\n"


def dash(port: int) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT4S" minBufferTime="PT1S"
     profiles="urn:mpeg:dash:profile:isoff-on-demand:2011">
  <Period>
    <AdaptationSet mimeType="video/mp4">
      <Representation id="1" bandwidth="100000" codecs="avc1.42c01e" width="320" height="240">
        <BaseURL>http://127.0.0.1:{port}/video.mp4</BaseURL>
      </Representation>
    </AdaptationSet>
    <AdaptationSet mimeType="video/mp2t">
      <Representation id="2" bandwidth="100000"><BaseURL>../outside/secret.ts</BaseURL></Representation>
    </AdaptationSet>
  </Period>
</MPD>
"""


HOSTILE = {"hls": hls, "ffconcat": ffconcat, "dash": dash}


@pytest.fixture
def job(tmp_path):
    """The private per-job directory, with the tripwire FIFO as its sibling at ../outside/secret.ts."""
    (tmp_path / "job").mkdir()
    (tmp_path / "out").mkdir()
    return tmp_path / "job"


def _plant(job: Path, kind: str, port: int) -> Path:
    path = job / "upload.mp4"
    path.write_text(HOSTILE[kind](port))
    return path


def _settle(listener) -> None:
    """Give a stray connection time to be accepted before counting."""
    time.sleep(0.3)


def _assert_contained(job: Path, planted: Path, listener, tripwire) -> None:
    """No connection reached the listener, the sibling file was not opened, nothing was written."""
    _settle(listener)
    assert listener.connections == 0 and not tripwire.opened
    assert sorted(job.parent.joinpath("out").iterdir()) == []
    assert sorted(job.iterdir()) == [planted]


def _assert_probe_refuses(job: Path, kind: str, listener, tripwire) -> None:
    """probe_file rejects the planted file as not media, and touches nothing."""
    planted = _plant(job, kind, listener.port)
    with pytest.raises(Rejected) as caught:
        probe_file(planted)
    assert caught.value.code == "not_media"
    _assert_contained(job, planted, listener, tripwire)


def test_control_the_harness_sees_what_an_unguarded_ffprobe_does(job, listener, tripwire):
    # Without our whitelists ffmpeg's HLS demuxer reads the sibling file, and with http allowed it connects out.
    planted = _plant(job, "hls", listener.port)
    subprocess.run(
        [
            "ffprobe",
            "-v",
            "quiet",
            "-rw_timeout",
            "2000000",
            "-protocol_whitelist",
            "file,http,tcp,crypto,data",
            planted.name,
        ],
        cwd=job,
        timeout=30,
    )
    _settle(listener)
    assert tripwire.opened
    assert listener.connections >= 1


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_probe_rejects_and_touches_nothing(kind, job, listener, tripwire):
    _assert_probe_refuses(job, kind, listener, tripwire)


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_whitelists_alone_hold_when_sniffing_and_namespaces_are_unavailable(kind, job, listener, tripwire, monkeypatch):
    # Second and third lines of defence: pretend the magic-byte sniff was fooled and unshare is missing.
    monkeypatch.setattr(pipeline_probe, "sniff", lambda head: "mov")
    monkeypatch.setattr(sandbox, "network_isolation", lambda: ())
    _assert_probe_refuses(job, kind, listener, tripwire)


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_transcode_and_images_refuse_even_without_a_probe(kind, job, listener, tripwire, monkeypatch):
    # A caller skipping probe_file must still not get ffmpeg to follow the references.
    monkeypatch.setattr(sandbox, "network_isolation", lambda: ())
    planted = _plant(job, kind, listener.port)
    out = job.parent / "out"
    forged = probe_info(
        320,
        240,
        format_name="hls",
        duration_s=4.0,
        audio_codec=None,
        size_bytes=planted.stat().st_size,
        audio_index=None,
        base_rate="",
    )
    with pytest.raises(MediaError):
        transcode(planted, out, forged, timeout=30)
    with pytest.raises(MediaError):
        make_posters(planted, out, forged)
    with pytest.raises(MediaError):
        make_storyboard(planted, out, duration_s=4.0)
    _assert_contained(job, planted, listener, tripwire)


def test_symlink_out_of_the_job_dir_is_refused(job, tmp_path, clips):
    link = job / "upload.mp4"
    link.symlink_to(clips["h264.mp4"])
    with pytest.raises(MediaError):
        probe_file(link)
