"""How a contest shows itself: the organiser's banner image and the public gallery switch."""

from __future__ import annotations

import io
import os
from typing import IO

from flask_babel import lazy_gettext as _l

from app.db import DbSession
from app.models import Contest, User
from app.outreach.images import BANNER_MAX_BYTES, BANNER_MIN_SIZE, ImageRefused, normalise_banner
from app.permissions import require_outreach_manager
from app.services import PortalError
from app.services.audit import record_event
from app.storage import Storage

BANNER_ERRORS = {
    "too_large": _l("The image is too large (at most %(mb)d MB).", mb=BANNER_MAX_BYTES // 2**20),
    "not_image": _l("The banner must be a JPEG, PNG or WebP image."),
    "too_small": _l(
        "The image is too small (at least %(w)d × %(h)d pixels).", w=BANNER_MIN_SIZE[0], h=BANNER_MIN_SIZE[1]
    ),
}


def set_banner(session: DbSession, storage: Storage, *, actor: User | None, contest: Contest, stream: IO[bytes]) -> str:
    """Check, re-encode and store the contest's banner (audited); the previous one is deleted. Returns the key."""
    require_outreach_manager(actor)
    try:
        jpeg = normalise_banner(stream)
    except ImageRefused as exc:
        raise PortalError(BANNER_ERRORS[exc.code], field="banner") from exc
    key = f"banners/{contest.id}/{os.urandom(8).hex()}.jpg"
    storage.put_stream(key, io.BytesIO(jpeg), content_type="image/jpeg")
    previous = contest.banner_key
    contest.banner_key = key
    record_event(session, actor=actor, action="contest.banner", obj=contest, after={"bytes": len(jpeg)})
    if previous:
        storage.delete(previous)
    return key


def remove_banner(session: DbSession, storage: Storage, *, actor: User | None, contest: Contest) -> None:
    """Go back to the generated card (audited)."""
    require_outreach_manager(actor)
    previous = contest.banner_key
    if not previous:
        return
    contest.banner_key = None
    record_event(session, actor=actor, action="contest.banner_remove", obj=contest)
    storage.delete(previous)


def set_gallery_public(session: DbSession, *, actor: User | None, contest: Contest, public: bool) -> None:
    """Open or close the public gallery of all ready entries (shown only once results are published; audited)."""
    require_outreach_manager(actor)
    if contest.gallery_public == public:
        return
    contest.gallery_public = public
    record_event(
        session,
        actor=actor,
        action="contest.gallery",
        obj=contest,
        before={"public": not public},
        after={"public": public},
    )
