"""Resumable clip uploads: one S3 multipart upload per clip, sent by the browser part by part.

The Clip row exists from the start (status `uploading`, with the multipart `upload_id`); it becomes the entry's clip
only when the upload is complete and the assembled object has exactly the declared size. Part sizes are fixed by the
declared size, so every part number and every part length can be checked: a part URL accepts exactly one body of the
expected length, presigned (direct mode) or carried in a signed token (proxy mode).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any, cast

from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import CursorResult, func, select, update

from app.db import DbSession
from app.models import Clip, ClipStatus, Entry, User, utcnow
from app.permissions import require, require_entry_changeable, require_unit_member
from app.services import PortalError
from app.services.contests import intake_refusal
from app.services.entries import ACTIVE_ENTRY, check_upload_name, check_upload_type, record_clip_upload
from app.services.entry_locks import entry_lock
from app.storage import PartsRejected, Storage, StorageNotFound, original_key

MIB = 1024 * 1024
MAX_PARTS = 10_000
MIN_PART_BYTES = 5 * MIB
TOKEN_SALT = "clip-upload-part"  # noqa: S105 - a namespace for signed tokens, not a secret


class UploadError(PortalError):
    """A refused upload request; `status` is the HTTP status the view answers with."""

    status = 400


class UploadForbidden(UploadError):
    status = 403


class UploadGone(UploadError):
    """The upload was completed, cancelled or swept: the client must start over."""

    status = 409


class UploadDiscarded(UploadError):
    """The upload could not be accepted and was removed (S3 and row); the view commits the removal."""

    status = 409


@dataclass(frozen=True)
class UploadRules:
    """Limits from the configuration that apply to every upload."""

    max_bytes: int
    part_bytes: int
    url_expires_s: int
    max_pending_per_unit: int

    @classmethod
    def from_config(cls, config) -> UploadRules:
        return cls(
            max_bytes=int(config["MAX_CONTENT_LENGTH"]),
            part_bytes=int(config["UPLOAD_PART_BYTES"]),
            url_expires_s=int(config["UPLOAD_URL_EXPIRES_SECONDS"]),
            max_pending_per_unit=int(config["UPLOAD_MAX_PENDING_PER_UNIT"]),
        )


@dataclass(frozen=True)
class PartGrant:
    """Permission to send one part: which upload, which part, exactly how many bytes."""

    clip_id: int
    key: str
    upload_id: str
    part_number: int
    length: int


def part_size_for(size: int, preferred: int) -> int:
    """The part size for a file: the preferred one (at least 5 MiB), grown in whole MiB to stay within 10,000 parts.

    The browser computes the same (app/static/js/uploader.js), so both sides agree on every part's boundaries.
    """
    part = max(int(preferred), MIN_PART_BYTES)
    if size > part * MAX_PARTS:
        part = math.ceil(size / MAX_PARTS / MIB) * MIB
    return part


def part_count(size: int, part: int) -> int:
    return max(1, math.ceil(size / part))


def part_length(size: int, part: int, number: int) -> int:
    """Length of part `number` (1-based) of a `size`-byte file cut into `part`-byte parts."""
    return min(part, size - (number - 1) * part)


def pending_upload(session: DbSession, *, entry: Entry) -> Clip | None:
    """The entry's upload in progress, if any."""
    return session.scalar(
        select(Clip)
        .where(Clip.entry_id == entry.id, Clip.status == ClipStatus.UPLOADING)
        .order_by(Clip.id.desc())
        .limit(1)
    )


def describe_upload(clip: Clip, rules: UploadRules) -> dict:
    """What a client needs to send (or resume) an upload."""
    size = clip.upload_size or 0
    part = part_size_for(size, rules.part_bytes)
    return {
        "clipId": clip.id,
        "uploadId": clip.upload_id,
        "key": clip.original_key,
        "filename": clip.filename,
        "size": size,
        "partSize": part,
        "partCount": part_count(size, part),
    }


def _check_rights(session: DbSession, user: User, entry: Entry) -> None:
    require_unit_member(user, entry.unit_id, error=UploadForbidden)
    require_entry_changeable(session, entry, error=UploadForbidden)
    require(
        entry.status in ACTIVE_ENTRY,
        _l("This entry was withdrawn or disqualified: it cannot take a new clip."),
        error=UploadForbidden,
    )


def _check_size(entry: Entry, size, rules: UploadRules) -> int:
    if isinstance(size, bool) or not isinstance(size, int):
        raise UploadError(_l("The file size is missing."))
    if size <= 0:
        raise UploadError(_l("The file is empty."))
    contest_limit = entry.contest.max_size_bytes
    if contest_limit and size > contest_limit:
        raise UploadError(_l("The file is larger than the contest allows (%(mb)d MB).", mb=contest_limit // MIB))
    if size > rules.max_bytes:
        raise UploadError(_l("The file is larger than the portal accepts (%(mb)d MB).", mb=rules.max_bytes // MIB))
    return size


def _check_type(content_type: str | None, ext: str) -> str | None:
    try:
        return check_upload_type(content_type, ext)  # the same allow-list as the plain upload form
    except PortalError as exc:
        raise UploadError(exc.message) from None


def _short_name(filename: str) -> str:
    name = os.path.basename((filename or "").replace("\\", "/")).strip()
    if len(name) <= 300:
        return name
    stem, ext = os.path.splitext(name)
    return stem[: 300 - len(ext)] + ext


def create_upload(
    session: DbSession,
    storage: Storage,
    *,
    user: User,
    entry: Entry,
    filename: str,
    size,
    content_type: str | None,
    rules: UploadRules,
) -> Clip:
    """Check the entry, the user's rights, the declared file and the unit's quota; start the multipart upload.

    The entry's current clip stays until the new one is complete. An earlier unfinished upload for the same entry is
    cancelled: an entry has at most one upload in progress.
    """
    _check_rights(session, user, entry)
    ext = check_upload_name(filename)
    size = _check_size(entry, size, rules)
    stored_type = _check_type(content_type, ext)
    earlier = list(session.scalars(select(Clip).where(Clip.entry_id == entry.id, Clip.status == ClipStatus.UPLOADING)))
    others = (
        session.scalar(
            select(func.count(Clip.id))
            .join(Entry, Clip.entry_id == Entry.id)
            .where(Entry.unit_id == entry.unit_id, Clip.status == ClipStatus.UPLOADING, Clip.entry_id != entry.id)
        )
        or 0
    )
    if others >= rules.max_pending_per_unit:
        raise UploadError(
            _l(
                "Your unit already has %(n)d uploads in progress. Let them finish, or cancel one, "
                "before starting another.",
                n=others,
            )
        )
    for old in earlier:
        discard_upload(session, storage, clip=old)
    clip = Clip(
        entry_id=entry.id,
        original_key=f"pending/{os.urandom(8).hex()}",
        filename=_short_name(filename),
        content_type=stored_type,
        status=ClipStatus.UPLOADING,
        uploaded_by_id=user.id,
        size_bytes=0,
        upload_size=size,
        upload_started_at=utcnow(),
    )
    session.add(clip)
    session.flush()
    clip.original_key = original_key(clip.id, ext)
    clip.upload_id = storage.create_multipart(clip.original_key, content_type=stored_type)
    session.flush()
    return clip


def _require_active(clip: Clip, upload_id: str | None) -> tuple[str, int]:
    """The upload id and declared size of the clip's upload in progress, when `upload_id` names it; else UploadGone."""
    if (
        clip.status != ClipStatus.UPLOADING
        or not clip.upload_id
        or clip.upload_id != upload_id
        or clip.upload_size is None
    ):
        raise UploadGone(_l("This upload is no longer in progress. Choose the file again to start over."))
    return clip.upload_id, clip.upload_size


def _require_still_open(session: DbSession, storage: Storage, clip: Clip, *, completing: bool = False) -> None:
    """Once intake closed, or (checked when completing, not at every part) the entry went under judging or into
    published results, an unfinished upload can never be completed: remove it now and refuse, saying why."""
    reason = intake_refusal(clip.entry.contest) or (entry_lock(session, clip.entry) if completing else None)
    if reason is not None:
        discard_upload(session, storage, clip=clip)
        raise UploadDiscarded(_l("%(reason)s The unfinished upload was cancelled.", reason=reason))


def _check_member(user: User, clip: Clip) -> None:
    require_unit_member(user, clip.entry.unit_id, error=UploadForbidden)


def grant_part(
    session: DbSession,
    storage: Storage,
    *,
    user: User,
    clip: Clip,
    upload_id: str | None,
    part_number,
    rules: UploadRules,
) -> PartGrant:
    """Allow one part of an upload in progress; part numbers outside the declared file's parts are refused."""
    _check_member(user, clip)
    active_id, size = _require_active(clip, upload_id)
    _require_still_open(session, storage, clip)
    part = part_size_for(size, rules.part_bytes)
    count = part_count(size, part)
    try:
        number = int(str(part_number), 10)
    except ValueError:
        number = 0
    if not 1 <= number <= min(count, MAX_PARTS) or str(number) != str(part_number).strip():
        raise UploadError(
            _l("There is no part %(n)s in this upload (it has %(count)d parts).", n=str(part_number)[:12], count=count)
        )
    return PartGrant(
        clip_id=clip.id,
        key=clip.original_key,
        upload_id=active_id,
        part_number=number,
        length=part_length(size, part, number),
    )


def received_parts(
    session: DbSession, storage: Storage, *, user: User, clip: Clip, upload_id: str | None
) -> list[dict]:
    """Parts the store holds for an upload in progress: [{PartNumber, Size, ETag}] (to resume it)."""
    _check_member(user, clip)
    active_id, _size = _require_active(clip, upload_id)
    try:
        return storage.list_parts(clip.original_key, active_id)
    except StorageNotFound as exc:
        raise UploadGone(_l("This upload is no longer in progress. Choose the file again to start over.")) from exc


def complete_upload(
    session: DbSession, storage: Storage, *, user: User, clip: Clip, upload_id: str | None, rules: UploadRules
) -> bool:
    """Check the parts, assemble them and make the clip the entry's current one.

    The object's size is verified on the store's own list of parts, before assembling: every part 1..N must be there
    with exactly its expected length, so their sum is the declared size, and the object is assembled from exactly
    those parts (their ETags). Parts of another size are refused and the upload removed. (A HEAD of the assembled
    object would only repeat this, and costs `rclone serve s3` a full MD5 pass: 1.9 s of CPU per GiB.)

    Returns True when this call completed the upload (the caller then queues processing once, after committing) and
    False when it had already been completed.
    """
    _check_member(user, clip)
    if clip.status != ClipStatus.UPLOADING and clip.upload_id is None and clip.upload_size:
        return False
    active_id, size = _require_active(clip, upload_id)
    _require_still_open(session, storage, clip, completing=True)
    part = part_size_for(size, rules.part_bytes)
    expected = [(n, part_length(size, part, n)) for n in range(1, part_count(size, part) + 1)]
    try:
        parts = storage.list_parts(clip.original_key, active_id)
    except StorageNotFound:
        return _completed_elsewhere(session, clip)
    received = [(p["PartNumber"], p["Size"]) for p in parts]
    if received != expected:
        got = {n for n, _ in received}
        if any(n not in dict(expected) or dict(expected)[n] != s for n, s in received):
            discard_upload(session, storage, clip=clip)
            raise UploadDiscarded(
                _l(
                    "The parts received do not match the file that was announced; the upload was "
                    "cancelled. Please upload the file again."
                )
            )
        missing = [n for n, _ in expected if n not in got]
        raise UploadError(_l("%(n)d parts have not arrived yet; the upload cannot be completed.", n=len(missing)))
    try:
        storage.complete_multipart(clip.original_key, active_id, parts)
    except StorageNotFound:
        return _completed_elsewhere(session, clip)
    except PartsRejected:
        # The store cannot assemble these parts (rclone, for one, gives up an upload whose stream broke).
        discard_upload(session, storage, clip=clip)
        raise UploadDiscarded(
            _l("The store could not assemble the parts; the upload was cancelled. Please upload the file again.")
        ) from None
    actual = sum(p["Size"] for p in parts)
    # Only one request can move the row out of `uploading`: a second completion (a retry, a second tab) sees 0 rows.
    done = session.execute(
        update(Clip)
        .where(Clip.id == clip.id, Clip.status == ClipStatus.UPLOADING, Clip.upload_id == active_id)
        .values(status=ClipStatus.UPLOADED, upload_id=None, size_bytes=actual, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.refresh(clip)
    if cast("CursorResult[Any]", done).rowcount != 1:
        return False
    record_clip_upload(session, actor=user, entry=clip.entry, clip=clip)
    return True


def _completed_elsewhere(session: DbSession, clip: Clip) -> bool:
    session.refresh(clip)
    if clip.status != ClipStatus.UPLOADING:
        return False
    raise UploadGone(_l("This upload is no longer in progress. Choose the file again to start over."))


def abort_upload(session: DbSession, storage: Storage, *, user: User, clip: Clip, upload_id: str | None) -> None:
    """Cancel an upload in progress (allowed even after the deadline: it only removes data)."""
    _check_member(user, clip)
    _require_active(clip, upload_id)
    discard_upload(session, storage, clip=clip)


def discard_upload(session: DbSession, storage: Storage, *, clip: Clip) -> None:
    """Abort the clip's multipart upload in the store and delete its row."""
    if clip.upload_id:
        storage.abort_multipart(clip.original_key, clip.upload_id)
    session.delete(clip)
    session.flush()


def check_part_target(session: DbSession, *, grant: PartGrant, length: int | None) -> None:
    """Before streaming a proxied part: the body has the granted length and the upload still accepts parts."""
    if length != grant.length:
        raise UploadError(_l("This part must be exactly %(n)d bytes long.", n=grant.length))
    clip = session.get(Clip, grant.clip_id)
    if clip is None:
        raise UploadGone(_l("This upload is no longer in progress. Choose the file again to start over."))
    _require_active(clip, grant.upload_id)
    refusal = intake_refusal(clip.entry.contest)
    if refusal is not None:
        raise UploadForbidden(refusal)


def receive_part(storage: Storage, *, grant: PartGrant, stream: IO[bytes]) -> str:
    """Stream one proxied part into the store in constant memory; return its ETag."""
    return storage.upload_part_stream(grant.key, grant.upload_id, grant.part_number, stream, length=grant.length)


def sign_part_token(secret: str, grant: PartGrant) -> str:
    """An opaque, signed token for one part (proxy mode); it expires with `read_part_token`'s max_age."""
    return URLSafeTimedSerializer(secret, salt=TOKEN_SALT).dumps(
        [grant.clip_id, grant.key, grant.upload_id, grant.part_number, grant.length]
    )


def read_part_token(secret: str, token: str, *, max_age: int) -> PartGrant:
    """The grant inside a token, or UploadForbidden when it was tampered with or has expired."""
    try:
        clip_id, key, upload_id, number, length = URLSafeTimedSerializer(secret, salt=TOKEN_SALT).loads(
            token, max_age=max_age
        )
    except SignatureExpired:
        raise UploadForbidden(_l("This upload link has expired. The uploader will ask for a new one.")) from None
    except (BadSignature, ValueError, TypeError):
        raise UploadForbidden(_l("This upload link is not valid.")) from None
    return PartGrant(
        clip_id=int(clip_id), key=str(key), upload_id=str(upload_id), part_number=int(number), length=int(length)
    )


def sweep_abandoned_uploads(
    session: DbSession, storage: Storage, *, older_than: timedelta, now: datetime | None = None
) -> dict:
    """Abort uploads started before now - older_than: their rows and multipart uploads, and multipart uploads under
    originals/ that no row claims (a crash between the store and the commit). Stores such as rclone and MinIO ignore
    lifecycle rules, so this is the only clean-up. Returns {"clips": [ids], "orphans": n}.
    """
    cutoff = (now or utcnow()) - older_than
    stale = list(
        session.scalars(
            select(Clip)
            .where(Clip.status == ClipStatus.UPLOADING, func.coalesce(Clip.upload_started_at, Clip.created_at) < cutoff)
            .order_by(Clip.id)
        )
    )
    swept = []
    for clip in stale:
        swept.append(clip.id)
        discard_upload(session, storage, clip=clip)
    claimed = set(
        session.scalars(select(Clip.upload_id).where(Clip.status == ClipStatus.UPLOADING, Clip.upload_id.is_not(None)))
    )
    orphans = 0
    for upload in storage.multipart_uploads("originals/"):
        initiated = upload.get("Initiated")
        if upload["UploadId"] in claimed or initiated is None or initiated >= cutoff:
            continue
        storage.abort_multipart(upload["Key"], upload["UploadId"])
        orphans += 1
    return {"clips": swept, "orphans": orphans}
