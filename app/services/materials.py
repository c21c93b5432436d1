"""Materials (Tài liệu) of a contest: PDF, DOCX, XLSX or PPTX documents up to 50 MB, stored in S3, listed and
downloaded publicly with their original names."""

from __future__ import annotations

import os
from typing import IO

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.db import DbSession
from app.models import Contest, Material, User
from app.outreach.documents import MATERIAL_MAX_BYTES, MIME_TYPES, clean_filename, content_matches, kind_from_name
from app.permissions import require_outreach_manager
from app.services import PortalError
from app.services.audit import record_event
from app.storage import Storage


def material_key(contest_id: int, token: str, kind: str) -> str:
    """Object key of a material: random, so that a replaced document never collides with the old one."""
    return f"materials/{contest_id}/{token}.{kind}"


def _size(fh: IO[bytes]) -> int:
    fh.seek(0, os.SEEK_END)
    size = fh.tell()
    fh.seek(0)
    return size


def add_material(
    session: DbSession,
    storage: Storage,
    *,
    actor: User | None,
    contest: Contest,
    stream: IO[bytes],
    filename: str,
    title: str = "",
) -> Material:
    """Check and store a document (audited). `stream` must be seekable (a spooled upload or an open file).

    The object is written before the row is flushed; if anything fails afterwards it is removed again."""
    require_outreach_manager(actor)
    name = clean_filename(filename)
    kind = kind_from_name(name)
    if kind is None:
        raise PortalError(_l("Materials must be PDF, DOCX, XLSX or PPTX files."), field="file")
    size = _size(stream)
    if size == 0:
        raise PortalError(_l("The file is empty."), field="file")
    if size > MATERIAL_MAX_BYTES:
        raise PortalError(
            _l("The file is larger than %(mb)d MB.", mb=MATERIAL_MAX_BYTES // 2**20),
            field="file",
        )
    if not content_matches(kind, stream):
        raise PortalError(_l("The file's content is not a valid %(kind)s document.", kind=kind.value.upper()))
    title = (title or "").strip() or name.rsplit(".", 1)[0]
    if len(title) > 300:
        raise PortalError(_l("The title is too long."), field="title")
    key = material_key(contest.id, os.urandom(12).hex(), kind.value)
    stored = storage.put_stream(key, stream, content_type=MIME_TYPES[kind])
    try:
        material = Material(
            contest_id=contest.id,
            title=title,
            filename=name,
            kind=kind,
            size_bytes=stored.size,
            object_key=key,
            uploaded_by_id=actor.id if actor else None,
        )
        session.add(material)
        record_event(
            session,
            actor=actor,
            action="material.add",
            obj=material,
            after={"title": title, "filename": name, "kind": kind.value, "size": stored.size, "sha256": stored.sha256},
        )
    except Exception:
        storage.delete(key)
        raise
    return material


def remove_material(session: DbSession, storage: Storage, *, actor: User | None, material: Material) -> None:
    """Remove a document from the contest and the store (audited)."""
    require_outreach_manager(actor)
    record_event(
        session,
        actor=actor,
        action="material.remove",
        obj=material,
        before={"title": material.title, "filename": material.filename},
    )
    key = material.object_key
    session.delete(material)
    session.flush()
    storage.delete(key)


def contest_materials(session: DbSession, contest: Contest) -> list[Material]:
    """A contest's materials, in the order they were added."""
    return list(
        session.scalars(
            select(Material).where(Material.contest_id == contest.id).order_by(Material.created_at, Material.id)
        )
    )
