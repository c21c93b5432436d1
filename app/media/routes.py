"""Authorised media delivery: every request is checked, bytes are streamed from S3 with HTTP range support.

Browsers need 206 answers for seeking; some stores answer ranged GETs with 200, so the portal computes the range
itself and only asks the store for the bytes.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, request, stream_with_context
from flask_login import current_user

from app import db
from app.connections import storage
from app.models import Clip, ClipStatus
from app.permissions import can_view_clip

bp = Blueprint("media", __name__, url_prefix="/media")

RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
TYPES = {".mp4": "video/mp4", ".jpg": "image/jpeg", ".vtt": "text/vtt"}  # Werkzeug adds "; charset=utf-8" to text types


def _key_for(clip: Clip, name: str) -> str | None:
    """Map a public file name to the clip's object key (only derived files; never the original)."""
    if name == "play.mp4":
        return playback_rendition(clip)
    for r in clip.renditions or []:
        if name == f"{r['name']}.mp4":
            return r["key"]
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
    start, end, status = 0, size - 1, 200
    match = RANGE_RE.match(request.headers.get("Range", "").strip())
    if match and size > 0:
        first, last = match.groups()
        if first == "" and last == "":
            abort(416)
        if first == "":
            start = max(size - int(last), 0)
        else:
            start = int(first)
            end = min(int(last), size - 1) if last else size - 1
        if start > end or start >= size:
            return Response(status=416, headers={"Content-Range": f"bytes */{size}"})
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(end - start + 1)
    if request.method == "HEAD" or size == 0:
        return Response(status=status, headers=headers, mimetype=mimetype)
    body = store.open_range(key, start, end)
    return Response(
        stream_with_context(body), status=status, headers=headers, mimetype=mimetype, direct_passthrough=True
    )
