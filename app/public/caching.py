"""Anonymous public pages that caches may keep: strong ETags, `Cache-Control: public`, 304s, and rendered bodies
shared by every web node through Redis.

A page's body is a function of its URL, the language, the code that renders it and the contest's content. The
content is summed up by `contest_version`: one small query over the contest row and the aggregates of what its public
pages show (publications, published news, materials, the versions of its ready clips, whose media URLs the pages
carry) plus the intake state, which moves with the clock. A cached body is found under a key made of all of these, so
any change of content is a new key and nothing has to be invalidated; stale keys expire (PAGE_CACHE_SECONDS).
Because a key names its content, each web process may also keep the few hottest bodies in a small LRU in front of
Redis (a key can never be served stale); that saves the Redis round trip on every hit.

The version query itself is most of the cost of a hit (docs/performance.md, "Public pages"), so a process reuses a
contest's version for PAGE_VERSION_SECONDS (default 1). The bound on staleness: a change made through another process
(another node, another gunicorn worker, a CLI command, the media worker) reaches this process's anonymous pages at
most PAGE_VERSION_SECONDS late; a change committed by this process forgets its versions at once (`_forget_versions`:
the ORM's commit of a contest, publication, news post, material or ready clip). Bulk UPDATEs and raw SQL are not
seen by that hook and fall under the same bound. Browsers and proxies keep a page PUBLIC_MAX_AGE anyway.

Only visitors who are not logged in, carry no flashed message and whose request does not change their session get
the cached body; everyone else gets the page rendered for them (logged-in pages stay `no-store`, app/security.py).
When Redis is unreachable the page is rendered as usual and still answers with its ETag.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import cache, wraps
from itertools import chain
from pathlib import Path
from types import SimpleNamespace
from typing import cast

from flask import Response, current_app, request, session
from flask_babel import get_locale
from flask_login import current_user
from redis.exceptions import RedisError
from sqlalchemy import Select, bindparam, event, func, inspect, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from app import db
from app.connections import cache_redis
from app.models import Clip, ClipStatus, Contest, Entry, Material, NewsPost, NewsStatus, Publication
from app.services.contests import intake_state

log = logging.getLogger(__name__)

PUBLIC_MAX_AGE = 60  # seconds a browser or proxy may reuse a public page without asking again
_BUILD: dict[str, str] = {}
# Rows whose change is a new contest_version (with ready clips: _shows_publicly).
_VERSIONED = (Contest, Publication, NewsPost, Material)
_LOCAL_WRITES = [0]  # bumped by every commit of this process that changed a _VERSIONED row
_LOCAL_WRITES_LOCK = threading.Lock()
_clock = time.monotonic  # what ends a reused version (tests move it forward instead of sleeping)


def contest_version(slug: str) -> str | None:
    """A digest of everything the contest's public pages show, from one query; None when there is no such contest."""
    row = db.session.connection().execute(_version_query(), {"slug": slug}).first()
    if row is None:
        return None
    values = row._mapping
    dates = SimpleNamespace(**{k: values[k] for k in ("opens_at", "closes_at", "intake_closed_at")})
    text = repr(tuple(row)) + intake_state(cast(Contest, dates)).value
    return hashlib.sha256(text.encode()).hexdigest()[:24]


@cache
def _version_query() -> Select:
    """The contest row and, as scalar subqueries, the aggregates of its publications, published news and materials.

    Built once per process (building a statement costs more than running it)."""
    pub = select(func.count(Publication.id), func.max(Publication.id)).where(Publication.contest_id == Contest.id)
    news = select(func.count(NewsPost.id), func.max(NewsPost.updated_at)).where(
        NewsPost.contest_id == Contest.id, NewsPost.status == NewsStatus.PUBLISHED
    )
    mats = select(func.count(Material.id), func.max(Material.id)).where(Material.contest_id == Contest.id)
    # A clip's media version (app/media/routes.py) follows its updated_at; the winners page carries those versions.
    clips = (
        select(func.count(Clip.id), func.max(Clip.updated_at))
        .join(Entry, Entry.id == Clip.entry_id)
        .where(Entry.contest_id == Contest.id, Clip.status == ClipStatus.READY)
    )
    aggregates = [
        q.with_only_columns(col).scalar_subquery() for q in (pub, news, mats, clips) for col in q.selected_columns
    ]
    return select(*Contest.__table__.columns, *aggregates).where(Contest.slug == bindparam("slug"))


def build_id() -> str:
    """Changes when the templates, translations or static files change (a deploy): cached bodies of old code go."""
    if "id" not in _BUILD:
        root = Path(current_app.root_path)
        digest = hashlib.sha256()
        for folder in ("templates", "translations", "static"):
            for path in sorted((root / folder).rglob("*")):
                if path.is_file():
                    stat = path.stat()
                    digest.update(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
        _BUILD["id"] = digest.hexdigest()[:12]
    return _BUILD["id"]


class _RecentBodies:
    """A small, thread-safe LRU of content-addressed page bodies (key -> etag\\nbody) for this process."""

    def __init__(self, size: int) -> None:
        self.size, self.items, self.lock = size, OrderedDict[str, bytes](), threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key: str, value: bytes) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


def _recent_version(slug: str) -> str | None:
    """contest_version, reused by this process for PAGE_VERSION_SECONDS (0: asked on every request) or until this
    process commits a change to what it sums up."""
    ttl = float(current_app.config.get("PAGE_VERSION_SECONDS") or 0)
    if ttl <= 0:
        return contest_version(slug)
    known: dict[str, tuple[float, int, str]] = current_app.extensions.setdefault("portal_page_versions", {})
    now, writes = _clock(), _LOCAL_WRITES[0]
    hit = known.get(slug)
    if hit is not None and hit[0] > now and hit[1] == writes:
        return hit[2]
    version = contest_version(slug)
    if version is not None:
        if len(known) > 1000:
            known.clear()
        known[slug] = (now + ttl, writes, version)
    return version


def _shows_publicly(obj: object) -> bool:
    """A row whose change changes contest_version: a _VERSIONED one, or a clip that is or was just ready (its media
    version is in the winners page; clips that are uploading change all the time and are not counted)."""
    if isinstance(obj, _VERSIONED):
        return True
    return isinstance(obj, Clip) and (obj.status == ClipStatus.READY or bool(inspect(obj).attrs.status.history.deleted))


@event.listens_for(Session, "after_flush")
def _note_versioned_writes(session: Session, _context) -> None:
    if any(_shows_publicly(obj) for obj in chain(session.new, session.dirty, session.deleted)):
        session.info["portal_public_writes"] = True


@event.listens_for(Session, "after_commit")
def _forget_versions(session: Session) -> None:
    """A commit of this process that changed a public page's content: every version this process knows is old."""
    if session.info.pop("portal_public_writes", False):
        with _LOCAL_WRITES_LOCK:
            _LOCAL_WRITES[0] += 1


@event.listens_for(Session, "after_rollback")
def _drop_versioned_writes(session: Session) -> None:
    session.info.pop("portal_public_writes", None)


def _recent() -> _RecentBodies:
    return current_app.extensions.setdefault("portal_recent_pages", _RecentBodies(64))


def _anonymous_and_plain() -> bool:
    """True when this request may get (and fill) the shared public copy of a page."""
    if request.method not in ("GET", "HEAD") or "lang" in request.args:
        return False
    if "_flashes" in session:
        return False
    return not current_user.is_authenticated


def _with_cache_headers(response: Response, etag: str) -> BaseResponse:
    response.set_etag(etag)
    response.headers["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
    return response.make_conditional(request)


def public_page(view: Callable) -> Callable:
    """Serve a contest's public page (view args include `slug`) from the shared cache for anonymous visitors."""

    @wraps(view)
    def wrapper(**kwargs):
        if not _anonymous_and_plain():
            return view(**kwargs)
        version = _recent_version(kwargs["slug"])
        if version is None:
            return view(**kwargs)  # its own 404
        # view.__name__ keeps the key apart from other pages with the same arguments.
        config = current_app.config.get("PUBLIC_URL") or ""  # absolute links (og:url, share panel) depend on it
        raw = "|".join((view.__name__, request.full_path, str(get_locale()), version, build_id(), config))
        key = "page:" + hashlib.sha256(raw.encode()).hexdigest()
        store = cache_redis()
        cached = _recent().get(key)
        if cached is None and store is not None:
            try:
                cached = store.get(key)
            except RedisError as exc:
                log.warning("page cache unreachable: %s", exc)
                store = None
        if cached is not None:
            _recent().put(key, cached)
            etag, _, body = cached.partition(b"\n")
            response = current_app.response_class(body, mimetype="text/html")
            return _with_cache_headers(response, etag.decode())
        response = current_app.make_response(view(**kwargs))
        if response.status_code != 200 or session.modified:
            return response
        body = response.get_data()
        etag = hashlib.sha256(body).hexdigest()[:32]
        _recent().put(key, etag.encode() + b"\n" + body)
        if store is not None:
            try:
                store.set(key, etag.encode() + b"\n" + body, ex=int(current_app.config["PAGE_CACHE_SECONDS"]))
            except RedisError as exc:
                log.warning("page cache unreachable: %s", exc)
        return _with_cache_headers(response, etag)

    return wrapper
