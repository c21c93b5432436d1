"""The RQ job that renders every certificate of a publication into one ZIP in the object store, with progress.

Rendering many PDFs takes memory and seconds: it never happens inside a web request. The job takes ids only and is
idempotent (the ZIP's key is derived from the publication and the paper settings)."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, has_app_context
from rq import Queue, get_current_job
from sqlalchemy import select

from app import db
from app.models import Certificate, Contest, Publication

BUILD_ZIP = "app.paperwork.jobs.build_certificates_zip"


def zip_key(contest: Contest, pub: Publication, count: int) -> str:
    """The ZIP's key: a new one whenever the publication, the number of certificates or the paper settings change."""
    settings = "|".join(
        str(v)
        for v in (contest.paper_place, contest.paper_date, contest.signer_title, contest.signer_name, count, pub.id)
    )
    digest = hashlib.sha256(settings.encode()).hexdigest()[:16]
    return f"paperwork/{contest.id}/certificates-{pub.id}-{digest}.zip"


def job_id(key: str) -> str:
    return "certificates-" + hashlib.sha256(key.encode()).hexdigest()[:24]


def enqueue_zip(queue: Queue, *, contest_id: int, publication_id: int, key: str):
    """Queue the ZIP's rendering unless the same one is queued or running; returns the job."""
    existing = queue.fetch_job(job_id(key))
    if existing is not None and existing.get_status(refresh=True) in ("queued", "started", "deferred", "scheduled"):
        return existing
    if existing is not None:
        existing.delete()
    return queue.enqueue(
        BUILD_ZIP,
        contest_id,
        publication_id,
        key,
        job_id=job_id(key),
        job_timeout=1800,
        result_ttl=86400,
        failure_ttl=7 * 86400,
    )


def zip_progress(queue: Queue, key: str) -> dict | None:
    """{"status", "done", "total"} of the ZIP's job, or None when there is none."""
    job = queue.fetch_job(job_id(key))
    if job is None:
        return None
    meta = job.get_meta(refresh=True)
    return {"status": job.get_status(refresh=True), "done": meta.get("done", 0), "total": meta.get("total", 0)}


@contextmanager
def _app_context() -> Iterator[Flask]:
    """The worker's app context (the worker command has one; a bare `rq worker` builds the app)."""
    if has_app_context():
        yield current_app._get_current_object()  # type: ignore[attr-defined]
        return
    from app import create_app

    application = create_app()
    with application.app_context():
        yield application


def build_certificates_zip(contest_id: int, publication_id: int, key: str) -> str:
    """Render the publication's certificates into a ZIP stored at key; returns the key."""
    from app.connections import storage
    from app.paperwork.links import verify_url_maker
    from app.paperwork.render import certificates_zip, render_certificates

    job = get_current_job()

    def progress(done: int, total: int) -> None:
        if job is not None and (done == total or done % 5 == 0):
            job.meta.update(done=done, total=total)
            job.save_meta()

    with _app_context(), db.session_scope() as session:
        contest = session.get(Contest, contest_id)
        pub = session.get(Publication, publication_id)
        if contest is None or pub is None:
            return ""
        certificates = list(
            session.scalars(
                select(Certificate).where(Certificate.publication_id == pub.id).order_by(Certificate.position)
            )
        )
        progress(0, len(certificates))
        data = certificates_zip(
            render_certificates(contest, pub, certificates, verify_url_maker(), on_progress=progress)
        )
        storage().put_stream(key, io.BytesIO(data), content_type="application/zip")
    return key
