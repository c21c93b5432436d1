"""Authorised media delivery: every request is checked, bytes are streamed from S3 with HTTP range support.

Browsers need 206 answers for seeking; some stores answer ranged GETs with 200, so the portal computes the range
itself (werkzeug parses the header) and only asks the store for the bytes.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, request, stream_with_context
from flask_login import current_user
from werkzeug.datastructures import Range

from app import db
from app.connections import storage
from app.models import Clip, ClipStatus
from app.permissions import can_view_clip

bp = Blueprint("media", __name__, url_prefix="/media")

TYPES = {".mp4": "video/mp4", ".jpg": "image/jpeg", ".vtt": "text/vtt"}  # Werkzeug adds "; charset=utf-8" to text types


def _key_for(clip: Clip, name: str) -> str | None:
    """Map a public file name to the clip's object key (only derived files; never the original)."""
    if name == "play.mp4":
        return playback_rendition(clip)
    for rendition in clip.renditions or []:
        if name == f"{rendition['name']}.mp4":
            return rendition["key"]
    return {
        "poster.jpg": clip.poster_key,
        "poster_small.jpg": clip.poster_small_key,
        "storyboard.jpg": clip.storyboard_key,
        "storyboard.vtt": clip.storyboard_vtt_key,
    }.get(name)


def playback_rendition(clip: Clip) -> str | None:
    """The default rendition for in-page playback: the largest up to 720 lines, else the smallest."""
    rungs = sorted(clip.renditions or [], key=lambda r: min(r["width"], r["height"]))
    fitting = [r for r in rungs if min(r["width"], r["height"]) <= 720]
    chosen = fitting[-1:] or rungs[:1]
    return chosen[0]["key"] if chosen else None


@bp.route("/clips/<int:clip_id>/<name>")
def clip_file(clip_id: int, name: str):
    clip = db.session.get(Clip, clip_id)
    if clip is None or clip.status != ClipStatus.READY or not can_view_clip(db.session, current_user, clip):
        abort(404)
    key = _key_for(clip, name)
    if not key:
        abort(404)
    store = storage()
    size = store.size(key)
    if size is None:
        abort(404)
    headers = {
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, max-age=300",
        "Content-Disposition": f'inline; filename="clip-{clip_id}-{name}"',
        "X-Content-Type-Options": "nosniff",
    }
    mimetype = TYPES.get(name[name.rfind(".") :], "application/octet-stream")
    start, stop, status = 0, size, 200
    wanted = _single_byte_range(request.range, size)
    if wanted is not None and size > 0:
        span = wanted.range_for_length(size)
        if span is None:
            return Response(status=416, headers={"Content-Range": f"bytes */{size}"})
        (start, stop), status = span, 206
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
    headers["Content-Length"] = str(stop - start)
    if request.method == "HEAD" or size == 0:
        return Response(status=status, headers=headers, mimetype=mimetype)
    body = store.open_range(key, start, stop - 1)
    return Response(
        stream_with_context(body), status=status, headers=headers, mimetype=mimetype, direct_passthrough=True
    )


def _single_byte_range(requested: Range | None, size: int) -> Range | None:
    """The one byte range a player asks for; several ranges, other units or a malformed header mean the whole file.

    A suffix longer than the file ("the last N bytes") is the whole file, as RFC 9110 says; werkzeug would refuse it.
    """
    if requested is None or requested.units != "bytes" or len(requested.ranges) != 1:
        return None
    start, stop = requested.ranges[0]
    if stop is None and start < 0:
        return Range("bytes", [(max(start, -size), None)])
    return requested
