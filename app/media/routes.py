"""Authorised media delivery: every request is checked here; the bytes come by one of three roads (MEDIA_DELIVERY).

- `stream`: through this process, with HTTP range support. Browsers need 206 answers for seeking; some stores answer
  ranged GETs with 200, so the portal computes the range itself (werkzeug parses the header) and only asks the store
  for the bytes.
- `redirect`: a 302 to a short-lived presigned GET at the store's public address. The store answers ranges itself
  (AWS and MinIO: 206; rclone: 200 with a correct Content-Range, see docs/deploy.md).
- `accel`: an empty answer with `X-Accel-Redirect` to nginx's internal location (MEDIA_ACCEL_PREFIX + the presigned
  path and query), which proxies to the store; nginx answers ranges (206).

The file name in Content-Disposition is `clip-<id>-<name>` in every mode: it never names the unit (blind rounds).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, redirect, request, stream_with_context
from flask_login import current_user
from werkzeug.datastructures import Range
from werkzeug.wrappers import Response as BaseResponse

from app import db
from app.connections import public_storage, storage
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
    mimetype = TYPES.get(name[name.rfind(".") :], "application/octet-stream")
    disposition = f'inline; filename="clip-{clip_id}-{name}"'
    mode = current_app.config["MEDIA_DELIVERY"]
    if mode != "stream":
        return _hand_over(key, mode=mode, mimetype=mimetype, disposition=disposition)
    store = storage()
    size = store.size(key)
    if size is None:
        abort(404)
    headers = {
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, max-age=300",
        "Content-Disposition": disposition,
        "X-Content-Type-Options": "nosniff",
    }
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


def _hand_over(key: str, *, mode: str, mimetype: str, disposition: str) -> BaseResponse:
    """Send the browser (redirect) or nginx (accel) to a presigned URL of key; the bytes never pass through Python."""
    expires = int(current_app.config["MEDIA_URL_EXPIRES_SECONDS"])
    # The answer may be reused only while the URL inside it is still valid, and only by this browser.
    cache = f"private, max-age={max(0, min(300, expires - 60))}"
    if mode == "redirect":
        url = public_storage().presign_get(key, expires_in=expires, content_type=mimetype, disposition=disposition)
        response = redirect(url, code=302)
        response.headers["Cache-Control"] = cache
        return response
    # accel: nginx reaches the store at S3_ENDPOINT_URL, the host this URL is signed for (its config pins it).
    signed = urlsplit(storage().presign_get(key, expires_in=expires, content_type=mimetype, disposition=disposition))
    internal = f"{current_app.config['MEDIA_ACCEL_PREFIX']}{signed.path}?{signed.query}"
    headers = {
        "X-Accel-Redirect": internal,
        "Cache-Control": cache,
        "Content-Disposition": disposition,
        "X-Content-Type-Options": "nosniff",
    }
    return Response(status=200, headers=headers, mimetype=mimetype)


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
