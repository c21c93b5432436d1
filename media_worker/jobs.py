"""RQ jobs: the I/O around the pure pipeline (database state, S3 download and upload).

Jobs take ids, never ORM objects, and are idempotent (derived keys are deterministic). Deterministic rejections are
recorded and never retried. Infrastructure errors (store, database, queue, disk) put the clip back in the queue with
backoff (app/services/clip_processing.py); the workers' sweeps enqueue it when due, so no retry depends on one worker
staying alive. Any other error fails the clip with an error id that the log line carries too.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from app import db
from app.backup import sha256_of
from app.clip_reasons import english_reason
from app.models import Clip, ClipStatus, utcnow
from app.notification_jobs import notify_clip
from app.services.clip_processing import (
    RetryPolicy,
    fail_clip,
    new_error_id,
    schedule_clip_retry,
)
from app.storage import Storage, derived_key
from config import Config
from media_worker.faults import is_infrastructure_error
from media_worker.pipeline import ClipRules, Rejected, make_posters, make_storyboard, probe_file, transcode, validate
from media_worker.reasons import INFRASTRUCTURE_UNAVAILABLE, PROCESSING_FAILED

log = logging.getLogger(__name__)
# A job that finds its clip in one of these has nothing to do: done, or failed until an organiser requeues it (which
# puts it back in `queued` first).
FINAL = (ClipStatus.READY, ClipStatus.REJECTED, ClipStatus.FAILED)


def _update(clip_id: int, **fields) -> None:
    with db.session_scope() as s:
        clip = s.get(Clip, clip_id)
        for key, value in fields.items():
            setattr(clip, key, value)


def _start(clip_id: int, *, stale_seconds: float) -> tuple[str, ClipRules, bool] | None:
    """Mark the clip processing; None when there is nothing to do (gone, already final, or another worker's job is
    alive on it: its heartbeat is fresh). The row lock makes two jobs that start together see each other."""
    with db.session_scope() as s:
        clip = s.get(Clip, clip_id, with_for_update=True)
        if clip is None or clip.status in FINAL:
            log.info("clip %s: nothing to do (%s): skipped", clip_id, "gone" if clip is None else clip.status.value)
            return None
        if clip.status == ClipStatus.PROCESSING and clip.updated_at > utcnow() - timedelta(seconds=stale_seconds):
            log.warning("clip %s is being processed by another job (heartbeat fresh): skipped", clip_id)
            return None
        contest = clip.entry.contest
        clip.status, clip.stage, clip.progress = ClipStatus.PROCESSING, "probing", 0.0
        clip.next_attempt_at = None  # this is the attempt; retrying_since stays until one gets through
        clip.attempts = (clip.attempts or 0) + 1
        log.info("clip %s: processing, attempt %s", clip_id, clip.attempts)
        clip.reason_code = clip.reason_params = clip.reason = clip.rejections = None
        rules = ClipRules(
            min_duration_s=contest.min_duration_s, max_duration_s=contest.max_duration_s, min_height=contest.min_height
        )
        return clip.original_key, rules, clip.sha256 is None


def _reject(clip_id: int, exc: Rejected) -> None:
    _update(
        clip_id,
        status=ClipStatus.REJECTED,
        reason_code=exc.code,
        reason_params=exc.params,
        rejections=[{"code": code, "params": params} for code, params in exc.rejections],
        reason=" ".join(english_reason(code, params) for code, params in exc.rejections),
        stage=None,
        progress=0.0,
        retrying_since=None,
        next_attempt_at=None,
        error_id=None,
    )
    notify_clip(clip_id)


@contextmanager
def _heartbeat(clip_id: int, interval_s: float):
    """Touch the clip's updated_at every interval_s while the job runs, so sweepers can tell a dead worker."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(interval_s):
            try:
                _update(clip_id, updated_at=utcnow())
            except Exception:  # noqa: BLE001 - a missed beat only risks a duplicate run, which is idempotent
                log.warning("heartbeat for clip %s failed", clip_id, exc_info=True)

    thread = threading.Thread(target=beat, name=f"heartbeat-{clip_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def process_clip(clip_id: int) -> str:
    """Probe, validate, transcode, poster and storyboard one clip; returns the final status, or "retrying" when an
    infrastructure error put it back in the queue for later."""
    config = Config()
    started = _start(clip_id, stale_seconds=config.CLIP_STALE_SECONDS)
    if started is None:
        return "skipped"
    try:
        with _heartbeat(clip_id, config.CLIP_STALE_SECONDS / 6):
            return _process(clip_id, *started, Storage.from_config(config), config)
    except Exception as exc:
        return _after_error(clip_id, exc, RetryPolicy.from_config(config))


def _after_error(clip_id: int, exc: Exception, policy: RetryPolicy) -> str:
    """Schedule a retry after an infrastructure error, or fail the clip; raises when the clip failed (RQ records it)."""
    error_id = new_error_id()
    if is_infrastructure_error(exc):
        log.warning("clip %s: infrastructure error, error_id=%s: %s", clip_id, error_id, exc, exc_info=True)
        try:
            with db.session_scope() as s:
                clip = s.get(Clip, clip_id)
                if clip is None:
                    return "skipped"
                scheduled = schedule_clip_retry(
                    s,
                    clip=clip,
                    now=utcnow(),
                    policy=policy,
                    error_id=error_id,
                    give_up_reason=INFRASTRUCTURE_UNAVAILABLE,
                    give_up_reason_text=english_reason(INFRASTRUCTURE_UNAVAILABLE),
                )
                next_at = clip.next_attempt_at
        except Exception:
            # The database is out too: the clip stays `processing` without a heartbeat, and a sweep requeues it.
            log.exception("clip %s: could not record the retry (error_id=%s); left for the sweepers", clip_id, error_id)
            raise exc from None
        if scheduled:
            log.info("clip %s: retry at %s (error_id=%s)", clip_id, next_at.isoformat() if next_at else "?", error_id)
            return "retrying"
        log.error(
            "clip %s: failed after %s h of infrastructure errors, error_id=%s",
            clip_id,
            policy.give_up_after_hours,
            error_id,
        )
        raise RuntimeError(f"clip {clip_id} failed, error_id={error_id}: {exc}") from exc
    log.error("clip %s failed, error_id=%s", clip_id, error_id, exc_info=exc)
    with db.session_scope() as s:
        clip = s.get(Clip, clip_id)
        if clip is not None:
            fail_clip(
                s,
                clip=clip,
                error_id=error_id,
                reason_code=PROCESSING_FAILED,
                reason_text=english_reason(PROCESSING_FAILED),
            )
    raise RuntimeError(f"clip {clip_id} failed, error_id={error_id}: {exc}") from exc


def _process(
    clip_id: int, original_key: str, rules: ClipRules, needs_hash: bool, storage: Storage, config: Config
) -> str:
    with tempfile.TemporaryDirectory(prefix=f"clip-{clip_id}-") as tmp:
        job_dir = Path(tmp) / "in"
        out_dir = Path(tmp) / "out"
        job_dir.mkdir(mode=0o700)
        out_dir.mkdir(mode=0o700)
        source = job_dir / f"source{os.path.splitext(original_key)[1]}"
        storage.download_file(original_key, str(source))
        if needs_hash:  # resumable uploads go straight to S3; fingerprint the original here
            _update(clip_id, sha256=sha256_of(source))
        try:
            info = probe_file(source)
            validate(info, rules)
            _update(
                clip_id,
                stage="transcoding",
                duration_s=info.duration_s,
                width=info.width,
                height=info.height,
                probe=_probe_doc(info),
            )
            renditions = transcode(
                source,
                out_dir,
                info,
                on_progress=_progress_writer(clip_id),
                quick_max_bitrate=config.QUICK_MAX_BITRATE,
                threads=config.MEDIA_FFMPEG_THREADS or None,
            )
        except Rejected as exc:
            _reject(clip_id, exc)
            return ClipStatus.REJECTED.value
        _update(clip_id, stage="thumbnails", progress=0.97)
        smallest = min(renditions, key=lambda r: r.height * r.width)
        largest = max(renditions, key=lambda r: r.height * r.width)
        # Posters come from an output: already upright, 8-bit and free of the source's metadata.
        posters = make_posters(largest.path, out_dir, info)
        board = make_storyboard(smallest.path, out_dir, duration_s=info.duration_s)
        docs = []
        for r in renditions:
            key = derived_key(clip_id, f"{r.name}.mp4")
            storage.put_file(key, str(r.path), content_type="video/mp4")
            docs.append(
                {
                    "name": r.name,
                    "key": key,
                    "width": r.width,
                    "height": r.height,
                    "bitrate": r.bitrate,
                    "size_bytes": r.size_bytes,
                    "copied": r.copied,
                }
            )
        poster_keys = {}
        for p in posters:
            poster_keys[p.name] = derived_key(clip_id, f"{p.name}.jpg")
            storage.put_file(poster_keys[p.name], str(p.path), content_type="image/jpeg")
        sprite_key = derived_key(clip_id, "storyboard.jpg")
        vtt_key = derived_key(clip_id, "storyboard.vtt")
        storage.put_file(sprite_key, str(board.sprite_path), content_type="image/jpeg")
        storage.put_file(vtt_key, str(board.vtt_path), content_type="text/vtt")
    _update(
        clip_id,
        status=ClipStatus.READY,
        stage=None,
        progress=1.0,
        retrying_since=None,
        next_attempt_at=None,
        error_id=None,
        renditions=docs,
        poster_key=poster_keys.get("poster"),
        poster_small_key=poster_keys.get("poster_small"),
        storyboard_key=sprite_key,
        storyboard_vtt_key=vtt_key,
        updated_at=utcnow(),
    )
    notify_clip(clip_id)
    return ClipStatus.READY.value


def _progress_writer(clip_id: int, every_s: float = 1.0):
    """A callback that stores progress at most once per every_s seconds (the UI polls it)."""
    last = [0.0]

    def write(fraction: float) -> None:
        now = time.monotonic()
        if now - last[0] >= every_s:
            last[0] = now
            try:
                _update(clip_id, progress=round(min(max(fraction, 0.0), 1.0) * 0.95, 3))
            except Exception as exc:
                if not is_infrastructure_error(exc):
                    raise
                # A database blip must not abort a transcode: the progress bar only lags.
                log.warning("clip %s: progress not stored (%s)", clip_id, exc)

    return write


def _probe_doc(info) -> dict:
    """The probe facts worth keeping (never tags: they may identify the unit in blind rounds)."""
    keep = (
        "format_name",
        "duration_s",
        "width",
        "height",
        "fps",
        "video_codec",
        "audio_codec",
        "rotation",
        "bit_rate",
        "size_bytes",
    )
    return {k: getattr(info, k, None) for k in keep}
