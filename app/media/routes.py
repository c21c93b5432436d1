"""Authorised media delivery: every request is checked here; the bytes come by one of three roads (MEDIA_DELIVERY).

- `stream`: through this process, with HTTP range support. Browsers need 206 answers for seeking; some stores answer
  ranged GETs with 200, so the portal computes the range itself (werkzeug parses the header) and only asks the store
  for the bytes.
- `redirect`: a 302 to a short-lived presigned GET at the store's public address. The store answers ranges itself
  (AWS and MinIO: 206; rclone: 200 with a correct Content-Range, see docs/deploy.md).
- `accel`: an empty answer with `X-Accel-Redirect` to nginx's internal location (MEDIA_ACCEL_PREFIX + the presigned
  path and query), which proxies to the store; nginx answers ranges (206).

The file name in Content-Disposition is `clip-<id>-<name>` in every mode: it never names the unit (blind rounds).

Caching. Derived files keep deterministic keys (DESIGN.md, decision 3), so a URL alone does not name its bytes; the
pages add `?v=<clip version>` (`clip_version`: changes whenever processing rewrites the clip's files). Every answer
(stream and accel) carries a strong ETag made of that version and the file name, and an `If-None-Match` that matches
is a 304 before the store is asked. Only a versioned URL of a clip that the public may watch is `public, max-age=1
year, immutable`; an unversioned or outdated `v`, and every clip that only logged-in users may see, keep the short
private policy (PRIVATE_MEDIA_CACHE). Redirects point at presigned URLs that expire, so they stay short whatever `v`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import datetime
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, redirect, request, stream_with_context
from flask_login import AnonymousUserMixin, current_user
from sqlalchemy import select
from werkzeug.datastructures import Range
from werkzeug.wrappers import Response as BaseResponse

from app import db
from app.connections import public_storage, storage
from app.models import Clip, ClipStatus
from app.permissions import can_view_clip

bp = Blueprint("media", __name__, url_prefix="/media")

TYPES = {".mp4": "video/mp4", ".jpg": "image/jpeg", ".vtt": "text/vtt"}  # Werkzeug adds "; charset=utf-8" to text types
PRIVATE_MEDIA_CACHE = "private, max-age=300"
IMMUTABLE_MEDIA_CACHE = "public, max-age=31536000, immutable"


@bp.app_template_global()
def clip_version(clip_id: int, updated_at: datetime | None) -> str:
    """The `?v=` of a clip's derived files: changes whenever processing rewrites them (the row's updated_at).

    An HMAC under SECRET_KEY, so it is opaque: nothing in it tells the unit or the upload (blind rounds)."""
    message = f"{clip_id}:{updated_at.isoformat() if updated_at else ''}".encode()
    return hmac.new(str(current_app.config["SECRET_KEY"]).encode(), message, hashlib.sha256).hexdigest()[:20]


def clip_versions(session, clip_ids: Iterable[int]) -> dict[int, str]:
    """clip_version of each clip id, from one query (pages that know only ids, such as the published snapshot)."""
    wanted = set(clip_ids)
    if not wanted:
        return {}
    rows = session.execute(select(Clip.id, Clip.updated_at).where(Clip.id.in_(wanted)))
    return {clip_id: clip_version(clip_id, updated_at) for clip_id, updated_at in rows}


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
    if mode == "redirect":
        return _hand_over(key, mode=mode, mimetype=mimetype, disposition=disposition)
    version = clip_version(clip.id, clip.updated_at)
    etag = hashlib.sha256(f"{version}:{name}".encode()).hexdigest()[:32]
    cache = _media_cache_policy(clip, version)
    if request.if_none_match.contains(etag):
        return Response(status=304, headers={"ETag": f'"{etag}"', "Cache-Control": cache})
    if mode == "accel":
        response = _hand_over(key, mode=mode, mimetype=mimetype, disposition=disposition)
        response.headers["ETag"] = f'"{etag}"'
        if cache == IMMUTABLE_MEDIA_CACHE:  # the bytes are fetched by nginx now: the URL's expiry does not bound them
            response.headers["Cache-Control"] = cache
        return response
    store = storage()
    size = store.size(key)
    if size is None:
        abort(404)
    headers = {
        "Accept-Ranges": "bytes",
        "Cache-Control": cache,
        "Content-Disposition": disposition,
        "ETag": f'"{etag}"',
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


def _media_cache_policy(clip: Clip, version: str) -> str:
    """Immutable for a URL that names the current version of a clip the public may watch; short and private else."""
    if request.args.get("v") != version:
        return PRIVATE_MEDIA_CACHE
    public = not current_user.is_authenticated or can_view_clip(db.session, AnonymousUserMixin(), clip)
    return IMMUTABLE_MEDIA_CACHE if public else PRIVATE_MEDIA_CACHE


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
