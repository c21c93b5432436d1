"""Helpers for the media tests: the lavfi clip catalogue, ffprobe, a typical ProbeInfo, the brightness of a crop,
rotation patching, network/file tripwires."""

from __future__ import annotations

import json
import mmap
import os
import socket
import struct
import subprocess
import threading
from dataclasses import replace
from pathlib import Path

from media_worker.pipeline_types import ProbeInfo

FFMPEG, FFPROBE = "/usr/bin/ffmpeg", "/usr/bin/ffprobe"


def _src(size="320x240", rate="30", dur=2):
    """lavfi test pattern input args."""
    return ["-f", "lavfi", "-i", f"testsrc2=s={size}:r={rate}:d={dur}"]


def _tone(dur=2, freq=440, rate=44100):
    """lavfi sine input args."""
    return ["-f", "lavfi", "-i", f"sine=f={freq}:d={dur}:sample_rate={rate}"]


AV = [*_src(), *_tone()]
SEI_UUID = "dc45e9bde6d948b7962cd820d923eeef"
H264 = ["-c:v", "libx264", "-preset", "ultrafast"]
AAC = ["-c:a", "aac"]
META = [
    "-metadata",
    "title=Ward 7 entry",
    "-metadata",
    "artist=Ward 7 Clerk",
    "-metadata",
    "comment=Ward 7 secret",
    "-metadata",
    "location=+48.8577+002.2950/",
    "-metadata:s:v",
    "handler_name=Ward7 Cam",
    "-metadata:s:v",
    "title=Ward7 video",
    "-metadata:s:a",
    "handler_name=Ward7 Mic",
    "-metadata:s:a",
    "language=fin",
]

# name -> ffmpeg args (output path appended). Kept at 320x240 / 1-3 s so the suite stays fast on 2 cores.
CLIPS: dict[str, list[str]] = {
    "h264.mp4": [*AV, *H264, *AAC],
    "faststart.mp4": [*_src(dur=3), *_tone(3), *H264, *AAC, "-movflags", "+faststart"],
    "plain.mp4": [*_src(dur=3), *_tone(3), *H264, *AAC],
    "plain.mkv": [*_src(dur=3), *_tone(3), *H264, *AAC],
    "hevc.mp4": [
        *AV,
        "-c:v",
        "libx265",
        "-preset",
        "ultrafast",
        "-x265-params",
        "log-level=error",
        "-tag:v",
        "hvc1",
        *AAC,
    ],
    "vp9.webm": [*AV, "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-c:a", "libopus"],
    "mpeg4.avi": [*AV, "-c:v", "mpeg4", "-c:a", "libmp3lame"],
    "mjpeg.mov": [*AV, "-c:v", "mjpeg", "-pix_fmt", "yuvj422p", "-c:a", "pcm_s16le"],
    "mpeg2.ts": [*AV, "-c:v", "mpeg2video", "-c:a", "mp2"],
    "mpeg2.mpg": [*AV, "-c:v", "mpeg2video", "-c:a", "mp2", "-f", "vob"],
    "interlaced.ts": [*_src("720x576", "25"), "-c:v", "mpeg2video", "-flags", "+ildct+ilme", "-top", "1", "-b:v", "4M"],
    "anamorphic.mpg": [*_src("720x576", "25"), "-vf", "setsar=16/15", "-c:v", "mpeg2video", "-b:v", "4M", "-f", "vob"],
    "10bit.mp4": [*AV, *H264, "-pix_fmt", "yuv420p10le", *AAC],
    "422.mp4": [*AV, *H264, "-pix_fmt", "yuv422p", *AAC],
    "444.mkv": [*AV, *H264, "-pix_fmt", "yuv444p", *AAC],
    "noaudio.mp4": [*_src(), *H264],
    "odd.mp4": [*_src("322x242"), "-vf", "format=yuv444p,crop=321:241", *H264],
    "portrait916.mp4": [*_src("360x640"), *_tone(), *H264, *AAC],
    "multiaudio.mkv": [
        *_src(),
        *_tone(),
        "-f",
        "lavfi",
        "-i",
        "anullsrc=d=2:cl=5.1",
        "-map",
        "0",
        "-map",
        "1",
        "-map",
        "2",
        *H264,
        *AAC,
    ],
    "vfr.mp4": [*_src(dur=3), *_tone(3), "-vf", "select='lt(n\\,30)+not(mod(n\\,3))'", "-fps_mode", "vfr", *H264, *AAC],
    "meta.mp4": [*AV, *H264, *AAC, *META],
    "ladder.mp4": [*_src("1920x1080", "30", 1), *_tone(1), *H264, *AAC],
    "seven.mp4": [*_src(dur=7), *H264],
    # Quick path sources: an editor-style export (x264 High, 1 s GOP, AAC 48 kHz stereo) carrying identity in tags
    # and in an SEI user-data message; the same at 720p (two rungs); and one with a single keyframe in 7 s.
    "quick.mp4": [
        *_src("640x360", "30", 3),
        *_tone(3, rate=48000),
        *["-c:v", "libx264", "-preset", "veryfast", "-g", "30", "-keyint_min", "30"],
        *["-bsf:v", f"h264_metadata=sei_user_data={SEI_UUID}+Ward 7 camera"],
        *AAC,
        *["-ac", "2"],
        *META,
    ],
    "quick720.mp4": [
        *_src("1280x720", "30", 2),
        *_tone(2, rate=48000),
        *["-c:v", "libx264", "-preset", "veryfast", "-crf", "30", "-g", "30", "-keyint_min", "30"],
        *AAC,
        *["-ac", "2"],
    ],
    "longgop.mp4": [*_src("640x360", "30", 7), *["-c:v", "libx264", "-preset", "ultrafast", "-g", "300"]],
    # Written to a pipe, as a browser's MediaRecorder does: no duration in the header.
    "live.webm": [*_src(), "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-f", "webm", "pipe:1"],
    "hlg.mp4": [
        *_src(dur=1),
        "-pix_fmt",
        "yuv420p10le",
        "-c:v",
        "libx265",
        "-preset",
        "ultrafast",
        "-x265-params",
        "log-level=error:colorprim=bt2020:transfer=arib-std-b67:colormatrix=bt2020nc",
        "-color_primaries",
        "bt2020",
        "-color_trc",
        "arib-std-b67",
        "-colorspace",
        "bt2020nc",
        "-tag:v",
        "hvc1",
    ],
    # Rejections
    "audio.m4a": [*_tone(), *AAC],
    "ffv1.mkv": [*_src(), "-c:v", "ffv1"],
    "flash.flv": [*_src(), "-c:v", "flv1"],
    "photo.jpg": [*_src(dur=1), "-frames:v", "1"],
    "still.mkv": [*_src(dur=1), "-frames:v", "1", *H264],
    "huge.mp4": [*_src("4160x64", "30", 1), *H264],
    "slow.mp4": [*_src(rate="1/2", dur=4), *H264],
    "fast.mkv": [*_src(rate="250", dur=0.5), *H264],
}
# ffmpeg 5.1 cannot write rotation: -display_rotation does not exist yet (unrecognised option) and the mov muxer
# ignores -metadata:s:v rotate=90. So the tkhd matrix is patched, which is where phones put it.
# marked.mp4: white top half, black bottom half, so a test can tell which way the picture was turned.
MARKED = [
    "-f",
    "lavfi",
    "-i",
    "color=white:s=320x240:d=1",
    "-vf",
    "drawbox=x=0:y=120:w=320:h=120:color=black:t=fill",
    *["-c:v", "libx264", "-preset", "ultrafast"],
]
ROTATED = {"rot90.mp4": (90, None), "rot270.mp4": (270, None), "rot180.mp4": (180, None), "marked90.mp4": (90, MARKED)}


def ffprobe(path: Path, *args: str) -> dict:
    """Plain ffprobe JSON of a trusted (test-made) file."""
    cmd = [FFPROBE, "-v", "error", "-of", "json", *(args or ("-show_format", "-show_streams")), str(path)]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def mean_luma(path: Path, crop: str) -> float:
    """The mean brightness (0-255) of the `crop` (w:h:x:y) of the first frame of a picture or video."""
    cmd = [FFMPEG, "-v", "error", "-i", str(path), "-frames:v", "1", "-vf", f"crop={crop}"]
    data = subprocess.run([*cmd, "-f", "rawvideo", "-pix_fmt", "gray", "-"], check=True, capture_output=True).stdout
    return sum(data) / len(data)


def probe_info(width: int = 1920, height: int = 1080, **changes) -> ProbeInfo:
    """What ffprobe says of a 10 s progressive 30 fps H.264/AAC MP4 of width x height; `changes` on top."""
    info = ProbeInfo(
        format_name="mov,mp4,m4a,3gp,3g2,mj2",
        duration_s=10.0,
        width=width,
        height=height,
        fps=30.0,
        video_codec="h264",
        audio_codec="aac",
        rotation=0,
        bit_rate=None,
        size_bytes=1,
        coded_width=width,
        coded_height=height,
        pix_fmt="yuv420p",
        field_order="progressive",
        video_index=0,
        audio_index=1,
        fps_rational="30/1",
        variable_frame_rate=False,
        base_rate="30/1",
    )
    return replace(info, **changes)


def set_rotation(path: Path, degrees: int) -> None:
    """Write a clockwise rotation into the first tkhd's matrix, as iPhones do."""
    # mmap, not read_bytes(): bench/transcode.py patches 100+ MB files and measures memory afterwards.
    with open(path, "r+b") as f, mmap.mmap(f.fileno(), 0) as data:
        _patch_tkhd(data, degrees)


def _patch_tkhd(data: mmap.mmap, degrees: int) -> None:
    """Rewrite the display matrix of the first tkhd box in place."""
    box = data.find(b"tkhd") - 4
    if box < 0:
        raise ValueError("no tkhd box")
    matrix_at = box + (48 if data[box + 8] == 0 else 60)
    a, b, c, d = {90: (0, 1, -1, 0), 180: (-1, 0, 0, -1), 270: (0, -1, 1, 0)}[degrees]
    w, h = (v >> 16 for v in struct.unpack(">II", data[matrix_at + 36 : matrix_at + 44]))
    tx, ty = {90: (h, 0), 180: (w, h), 270: (0, w)}[degrees]
    struct.pack_into(">9i", data, matrix_at, a << 16, b << 16, 0, c << 16, d << 16, 0, tx << 16, ty << 16, 0x40000000)


class Clips:
    """Makes each named clip once per session, on first use."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.lock = threading.Lock()

    def __getitem__(self, name: str) -> Path:
        path = self.root / name
        with self.lock:
            if not path.exists():
                degrees, base = ROTATED.get(name, (0, None))
                args = CLIPS[name] if not degrees else base or [*AV, *H264, *AAC]
                if args[-1] == "pipe:1":
                    with path.open("wb") as out:
                        subprocess.run([FFMPEG, "-nostdin", "-v", "error", *args], check=True, stdout=out)
                else:
                    subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-y", *args, str(path)], check=True)
                if degrees:
                    set_rotation(path, degrees)
        return path


class Listener:
    """A minimal loopback HTTP server (answers 404) that counts every connection it accepts."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            # Counted at accept, before any byte: a client that connects and gives up still counts.
            self.connections += 1
            try:
                conn.settimeout(1)
                conn.recv(4096)
                conn.sendall(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            except OSError:
                pass
            finally:
                conn.close()

    def close(self) -> None:
        self.running = False
        self.thread.join(2)
        self.sock.close()


class Tripwire:
    """A FIFO outside the job dir: any process opening it for reading flips .opened."""

    def __init__(self, path: Path) -> None:
        self.path = path
        os.mkfifo(path)
        self.opened = False
        self.closing = False
        self.thread = threading.Thread(target=self._wait, daemon=True)
        self.thread.start()

    def _wait(self) -> None:
        fd = os.open(self.path, os.O_WRONLY)  # blocks until someone opens the read end
        if not self.closing:
            self.opened = True
            os.write(fd, b"\x00" * 1024)  # junk, then EOF, so the reader does not hang
        os.close(fd)

    def close(self) -> None:
        self.closing = True
        fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        self.thread.join(2)
        os.close(fd)
