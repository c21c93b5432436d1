"""The resumable upload protocol (JSON), used by the Uppy uploader on the entry page and by scripts.

    POST   /uploads/entries/<entry_id>          {filename, size, type} -> 201 {clipId, uploadId, key, partSize, …}
    GET    /uploads/<clip_id>/parts?uploadId=    -> {parts: [{PartNumber, Size, ETag}]}   (resume)
    POST   /uploads/<clip_id>/parts/<n>          {uploadId} -> {url, method: PUT, headers, expires}
    PUT    <url>                                  the part's bytes (exactly its length) -> 200, ETag header
    POST   /uploads/<clip_id>/complete           {uploadId} -> {clipId, status, entryUrl}
    DELETE /uploads/<clip_id>?uploadId=          -> {aborted: true}

Control requests need the session cookie and the CSRF token (X-CSRFToken). A part URL is presigned S3 (UPLOAD_MODE
`direct`) or this portal's /uploads/part/<token> (UPLOAD_MODE `proxy`); either is valid for one part of one upload,
with one length, for UPLOAD_URL_EXPIRES_SECONDS. Errors are {"error": "<translated message>"} with a 4xx status.
"""

from __future__ import annotations

from functools import wraps

from botocore.exceptions import BotoCoreError, ClientError
from flask import Blueprint, current_app, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import db
from app.connections import enqueue_processing, public_storage, storage
from app.extensions import csrf
from app.models import Clip, Entry, Role
from app.permissions import is_unit_member_of
from app.services import PortalError
from app.services import uploads as upload_service
from app.services.uploads import UploadDiscarded, UploadRules
from app.storage import StorageError

bp = Blueprint("uploads", __name__, url_prefix="/uploads")


def _error(message, status: int):
    return jsonify(error=str(message)), status


@bp.before_request
def _unit_members_only():
    if request.endpoint == "uploads.put_part":
        return None  # authorised by its signed token, like a presigned URL
    if not current_user.is_authenticated:
        return _error(_("Please log in again: your session has ended."), 401)
    if current_user.role != Role.UNIT:
        return _error(_("Only members of a unit can upload clips."), 403)
    return None


def _json_errors(view):
    """Refusals become {"error": …} with their status; the removal of a discarded upload is committed."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except PortalError as exc:
            if isinstance(exc, UploadDiscarded):
                db.session.commit()
            else:
                db.session.rollback()
            return _error(exc, getattr(exc, "status", 400))
        except Exception:
            db.session.rollback()
            raise

    return wrapper


def _rules() -> UploadRules:
    return UploadRules.from_config(current_app.config)


class _NotYours(PortalError):
    """The entry or upload does not exist, or it is another unit's: the answer does not tell which."""

    status = 404


def _not_yours() -> _NotYours:
    return _NotYours(_("This upload or entry does not exist, or it is not your unit's."))


def _own_entry(entry_id: int) -> Entry:
    entry = db.session.get(Entry, entry_id)
    if entry is None or not is_unit_member_of(current_user, entry.unit_id):
        raise _not_yours()
    return entry


def _own_clip(clip_id: int) -> Clip:
    clip = db.session.get(Clip, clip_id)
    if clip is None or not is_unit_member_of(current_user, clip.entry.unit_id):
        raise _not_yours()
    return clip


def _body() -> dict:
    doc = request.get_json(silent=True)
    return doc if isinstance(doc, dict) else {}


def _upload_id() -> str | None:
    return request.args.get("uploadId") or _body().get("uploadId")


def upload_doc(clip: Clip, rules: UploadRules) -> dict:
    """The upload's description plus the URLs of its control endpoints."""
    doc = upload_service.describe_upload(clip, rules)
    doc["urls"] = {
        "parts": url_for("uploads.list_parts", clip_id=clip.id),
        "sign": url_for("uploads.sign_part", clip_id=clip.id, part_number=0)[:-1],
        "complete": url_for("uploads.complete", clip_id=clip.id),
        "abort": url_for("uploads.abort", clip_id=clip.id),
    }
    return doc


@bp.post("/entries/<int:entry_id>")
@_json_errors
def create(entry_id: int):
    """Start an upload for the entry's new clip."""
    entry = _own_entry(entry_id)
    body = _body()
    store = storage()
    rules = _rules()
    clip = upload_service.create_upload(
        db.session,
        store,
        user=current_user,
        entry=entry,
        filename=str(body.get("filename") or ""),
        size=body.get("size"),
        content_type=body.get("type"),
        rules=rules,
    )
    doc = upload_doc(clip, rules)
    try:
        db.session.commit()
    except Exception:
        store.abort_multipart(doc["key"], doc["uploadId"])
        raise
    return jsonify(doc), 201


@bp.get("/<int:clip_id>/parts")
@_json_errors
def list_parts(clip_id: int):
    """Parts already received, so that a resumed upload sends only the others."""
    clip = _own_clip(clip_id)
    parts = upload_service.received_parts(db.session, storage(), user=current_user, clip=clip, upload_id=_upload_id())
    return jsonify(parts=parts, **upload_doc(clip, _rules()))


@bp.post("/<int:clip_id>/parts/<part_number>")
@_json_errors
def sign_part(clip_id: int, part_number: str):
    """A URL for one part: presigned S3 (direct) or this portal with a signed token (proxy)."""
    clip = _own_clip(clip_id)
    rules = _rules()
    grant = upload_service.grant_part(
        db.session,
        storage(),
        user=current_user,
        clip=clip,
        upload_id=_upload_id(),
        part_number=part_number,
        rules=rules,
    )
    if current_app.config["UPLOAD_MODE"] == "proxy":
        token = upload_service.sign_part_token(current_app.config["SECRET_KEY"], grant)
        url = url_for("uploads.put_part", token=token)
    else:
        url = public_storage().presign_part(
            grant.key, grant.upload_id, grant.part_number, length=grant.length, expires_in=rules.url_expires_s
        )
    return jsonify(
        url=url, method="PUT", headers={}, expires=rules.url_expires_s, partNumber=grant.part_number, size=grant.length
    )


@bp.post("/<int:clip_id>/complete")
@_json_errors
def complete(clip_id: int):
    """Assemble the parts; the clip becomes the entry's current one and is queued for processing, once."""
    clip = _own_clip(clip_id)
    completed = upload_service.complete_upload(
        db.session, storage(), user=current_user, clip=clip, upload_id=_upload_id(), rules=_rules()
    )
    db.session.commit()
    if completed:
        enqueue_processing(clip.id)
    db.session.refresh(clip)
    entry_url = url_for("units.entry", entry_id=clip.entry_id)
    return jsonify(
        clipId=clip.id, status=clip.status.value, completed=completed, entryUrl=entry_url, location=entry_url
    )


@bp.delete("/<int:clip_id>")
@_json_errors
def abort(clip_id: int):
    """Cancel an upload in progress: the store frees its parts and the clip row goes away."""
    clip = _own_clip(clip_id)
    upload_service.abort_upload(db.session, storage(), user=current_user, clip=clip, upload_id=_upload_id())
    db.session.commit()
    return jsonify(aborted=True)


@bp.put("/part/<token>")
@csrf.exempt
@_json_errors
def put_part(token: str):
    """Proxy mode: stream one part from the request body into S3 UploadPart without holding it in memory."""
    try:
        grant = upload_service.read_part_token(current_app.config["SECRET_KEY"], token, max_age=_rules().url_expires_s)
        upload_service.check_part_target(db.session, grant=grant, length=request.content_length)
    except PortalError:
        _drain(request.stream, request.content_length)
        raise
    db.session.close()  # hand the connection back: the stream may take minutes on a slow link
    try:
        etag = upload_service.receive_part(storage(), grant=grant, stream=request.stream)
    except (BotoCoreError, ClientError, StorageError):
        current_app.logger.warning("part %s of clip %s not stored", grant.part_number, grant.clip_id, exc_info=True)
        return _error(_("The file store did not take this part; it will be sent again."), 502)
    response = jsonify(partNumber=grant.part_number, ETag=etag)
    response.headers["ETag"] = etag
    return response


def _drain(stream, length: int | None, limit: int = 64 * 1024 * 1024) -> None:
    """Read and drop a refused part's body, so that the browser gets the answer instead of a reset connection."""
    if not length or length > limit:
        return
    while stream.read(1024 * 1024):
        pass


@bp.app_template_global()
def uploader_settings(entry: Entry) -> dict:
    """What the entry page's uploader needs: URLs, part size, limits, and the upload in progress (to resume)."""
    rules = _rules()
    pending = upload_service.pending_upload(db.session, entry=entry)
    limit = min(x for x in (rules.max_bytes, entry.contest.max_size_bytes) if x)
    return {
        "createUrl": url_for("uploads.create", entry_id=entry.id),
        "entryId": entry.id,
        "partSize": rules.part_bytes,
        "maxBytes": limit,
        "pending": upload_doc(pending, rules) if pending is not None and pending.upload_id else None,
    }
