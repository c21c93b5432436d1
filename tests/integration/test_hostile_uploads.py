"""Hostile files through the whole job: playlists and scripts disguised as MP4 must not make ffmpeg reach the network
or files outside its job directory; the clip ends `rejected` and nothing derived is written."""

from __future__ import annotations

import http.server
import threading

import pytest

from app.connections import enqueue_processing, storage
from app.models import Clip, ClipStatus
from app.services.entries import store_upload


@pytest.fixture
def listener():
    """A loopback HTTP server that counts every connection it receives."""
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"#EXTM3U\n")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


def test_disguised_playlists_are_rejected_without_touching_network_or_files(
    app, session, make, run_jobs, listener, tmp_path, sample_clip
):
    url, hits = listener
    secret = tmp_path / "secret.mp4"
    secret.write_bytes(sample_clip.read_bytes())
    payloads = {
        "hls.mp4": f"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n{url}/seg0.ts\n#EXTINF:2,\n{secret}\n"
        "#EXT-X-ENDLIST\n",
        "concat.mp4": f"ffconcat version 1.0\nfile '{url}/a.mp4'\nfile '{secret}'\n",
        "dash.mp4": (
            f'<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" '
            f'mediaPresentationDuration="PT2S"><Period><AdaptationSet><Representation id="1" '
            f'bandwidth="1000" mimeType="video/mp4"><BaseURL>{url}/v.mp4</BaseURL></Representation>'
            f"</AdaptationSet></Period></MPD>"
        ),
    }
    entry = make.entry(make.contest(), make.unit(), clip_status=None)
    clips = []
    for name, text in payloads.items():
        path = tmp_path / name
        path.write_text(text)
        with path.open("rb") as fh:
            clips.append(
                store_upload(
                    session,
                    storage(),
                    user=None,
                    entry=entry,
                    stream=fh,
                    filename=name,
                    content_type="video/mp4",
                    check_rights=False,
                )
            )
        session.commit()
        enqueue_processing(clips[-1].id)
    run_jobs()
    session.expire_all()
    for clip in clips:
        clip = session.get(Clip, clip.id)
        assert clip.status == ClipStatus.REJECTED, (clip.filename, clip.status, clip.reason)
        assert storage().keys(f"derived/{clip.id}/") == []
        assert storage().exists(clip.original_key)
    assert hits == []
