"""A resumable upload driven through the upload service directly, for tests about what happens when it completes."""

from __future__ import annotations

import io

MIB = 1024 * 1024
SMALL_MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(2000)  # an MP4 signature: enough for the upload checks


def upload_one_part(session, store, *, member, entry, filename: str):
    """Start an upload of SMALL_MP4 for `entry` as `member` and send its one part, not completing it; (clip, rules)."""
    from app.services import uploads

    rules = uploads.UploadRules(max_bytes=64 * MIB, part_bytes=5 * MIB, url_expires_s=60, max_pending_per_unit=2)
    clip = uploads.create_upload(
        session, store, user=member, entry=entry, filename=filename, size=len(SMALL_MP4), content_type="video/mp4",
        rules=rules,
    )  # fmt: skip
    session.commit()
    grant = uploads.grant_part(
        session, store, user=member, clip=clip, upload_id=clip.upload_id, part_number="1", rules=rules
    )
    uploads.receive_part(store, grant=grant, stream=io.BytesIO(SMALL_MP4))
    return clip, rules
