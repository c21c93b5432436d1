"""Jobs on the mail queue that write mail (the sending itself is app/mailer.py).

`password_reset_job(email)`: the forgot-password page only enqueues this job, whatever the address, so that its answer
takes the same time whether the address has an account or not (writing and rendering the mail took ~25 ms more, enough
to tell accounts apart). The job renders with the app: the worker's own app context (`flask worker` forks its
work-horses inside it), else an app built from the environment.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

from flask import has_app_context
from rq import Retry

from app import db
from app.mailer import mail_queue

WRITE_RESET_MAIL_JOB = "app.mail_jobs.password_reset_job"


@contextlib.contextmanager
def _app_context() -> Iterator[None]:
    if has_app_context():
        yield
        return
    from app import create_app

    with create_app().app_context():
        yield


def enqueue_password_reset(config: Mapping[str, Any], email: str) -> None:
    """Queue the reset mail for email (raises when Redis is down: the caller answers 503)."""
    mail_queue(config).enqueue(
        WRITE_RESET_MAIL_JOB,
        email.strip().lower()[:200],
        job_timeout=120,
        result_ttl=600,
        failure_ttl=7 * 86400,
        retry=Retry(max=3, interval=[10, 60, 300]),
    )


def password_reset_job(email: str) -> str:
    """Write the reset mail of the active account with this address, if any; returns mailed or no-account."""
    from app.services.invitations import request_password_reset

    with _app_context(), db.session_scope() as session:
        message = request_password_reset(session, email=email)
    return "mailed" if message is not None else "no-account"
