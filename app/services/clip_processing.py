"""Processing outcomes that are not the file's verdict: retries after infrastructure errors, and failures.

An infrastructure error (store, database or queue down, no disk space) is not the clip's fault: the clip goes back to
`queued` with the stage `retrying` and the time of its next attempt, which the workers' sweeps enqueue when due. The
waits double from CLIP_RETRY_BASE_SECONDS up to CLIP_RETRY_MAX_SECONDS; after CLIP_RETRY_HOURS of such errors, or on
an error that waiting will not heal (a bug), the clip becomes `failed` with an error id to look up in the logs.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.db import DbSession
from app.models import Clip, ClipStatus, User
from app.services.audit import record_event

RETRYING = "retrying"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How long to wait between tries after infrastructure errors, and when to give up."""

    base_seconds: float = 30
    max_seconds: float = 900
    give_up_after_hours: float = 24

    @classmethod
    def from_config(cls, cfg) -> RetryPolicy:
        """From a Flask config mapping or a Config object."""
        get = cfg.get if hasattr(cfg, "get") else lambda k: getattr(cfg, k)
        return cls(
            base_seconds=float(get("CLIP_RETRY_BASE_SECONDS")),
            max_seconds=float(get("CLIP_RETRY_MAX_SECONDS")),
            give_up_after_hours=float(get("CLIP_RETRY_HOURS")),
        )

    def delay(self, *, since: datetime, now: datetime) -> timedelta:
        """The wait before the next try: as long as the outage has lasted so far (so waits double), within bounds."""
        elapsed = max((now - since).total_seconds(), 0.0)
        return timedelta(seconds=min(max(self.base_seconds, elapsed), max(self.max_seconds, self.base_seconds)))

    def exhausted(self, *, since: datetime, now: datetime) -> bool:
        """True once errors have lasted longer than give_up_after_hours."""
        return now - since >= timedelta(hours=self.give_up_after_hours)


def new_error_id() -> str:
    """A short id that the worker logs with the failure, for organisers to quote and operators to grep."""
    return uuid.uuid4().hex[:12]


def schedule_clip_retry(
    session: DbSession,
    *,
    clip: Clip,
    now: datetime,
    policy: RetryPolicy,
    error_id: str,
    give_up_reason: str,
    give_up_reason_text: str,
) -> bool:
    """Put the clip back in the queue for a later try after an infrastructure error; True when a retry is scheduled,
    False when the errors have lasted too long and the clip failed instead (see fail_clip)."""
    since = clip.retrying_since or now
    if policy.exhausted(since=since, now=now):
        fail_clip(session, clip=clip, error_id=error_id, reason_code=give_up_reason, reason_text=give_up_reason_text)
        return False
    clip.status, clip.stage, clip.progress = ClipStatus.QUEUED, RETRYING, 0.0
    clip.retrying_since = since
    clip.next_attempt_at = now + policy.delay(since=since, now=now)
    clip.error_id = error_id
    clip.reason_code = clip.reason_params = clip.reason = None
    session.flush()
    return True


def fail_clip(
    session: DbSession,
    *,
    clip: Clip,
    error_id: str,
    reason_code: str,
    reason_text: str,
    actor: User | None = None,
) -> None:
    """Mark the clip `failed` for organisers to act on (they see the error id), and audit it."""
    before = {"status": clip.status.value, "attempts": clip.attempts}
    clip.status, clip.stage = ClipStatus.FAILED, None
    clip.next_attempt_at = None
    clip.error_id = error_id
    clip.reason_code, clip.reason_params, clip.reason = reason_code, {}, reason_text
    record_event(
        session,
        actor=actor,
        action="clip.failed",
        obj=clip,
        contest_id=clip.entry.contest_id if clip.entry else None,
        before=before,
        after={"status": ClipStatus.FAILED.value, "error_id": error_id, "reason_code": reason_code},
    )
    session.flush()
    _tell_organisers(session, clip)


def _tell_organisers(session: DbSession, clip: Clip) -> None:
    """Mail the organisers about the failed clip; a mail problem never keeps the clip from being marked failed."""
    from app.services.notifications import notify_clip_failed

    try:
        with session.begin_nested():
            notify_clip_failed(session, clip=clip)
    except Exception:  # noqa: BLE001 - the failure is recorded and shown in the portal either way
        log.exception("could not write the failure mail for clip %s", clip.id)


def clear_clip_retry(clip: Clip) -> None:
    """Forget the retry state once a try got through (the clip is ready, or the file's verdict is in)."""
    clip.retrying_since = clip.next_attempt_at = clip.error_id = None


def is_retrying(clip: Clip | None) -> bool:
    """True when the clip waits for its next try after an infrastructure error."""
    return clip is not None and clip.status == ClipStatus.QUEUED and clip.stage == RETRYING
