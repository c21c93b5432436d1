"""Anonymous public pages that caches may keep: strong ETags, `Cache-Control: public`, 304s, and rendered bodies
shared by every web node through Redis.

A page's body is a function of its URL, the language, the code that renders it and the contest's content. The
content is summed up by `contest_version`: one small query over the contest row and the aggregates of what its public
pages show (publications, published news, materials) plus the intake state, which moves with the clock. A cached
body is found under a key made of all of these, so any change of content is a new key and nothing has to be
invalidated; stale keys expire (PAGE_CACHE_SECONDS). Because a key names its content, each web process may also
keep the few hottest bodies in a small LRU in front of Redis (a key can never be served stale: nodes stay consistent
through the database, as for everything else); that saves the Redis round trip on every hit.

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
from pathlib import Path
from types import SimpleNamespace
from typing import cast

from flask import Response, current_app, request, session
from flask_babel import get_locale
from flask_login import current_user
from redis.exceptions import RedisError
from sqlalchemy import Select, bindparam, func, select
from werkzeug.wrappers import Response as BaseResponse

from app import db
from app.connections import cache_redis
from app.models import Contest, Material, NewsPost, NewsStatus, Publication
from app.services.contests import intake_state

log = logging.getLogger(__name__)

PUBLIC_MAX_AGE = 60  # seconds a browser or proxy may reuse a public page without asking again
_BUILD: dict[str, str] = {}


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
    aggregates = [q.with_only_columns(col).scalar_subquery() for q in (pub, news, mats) for col in q.selected_columns]
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
    """contest_version, reused for PAGE_VERSION_SECONDS by this process (0, the default: asked on every request).

    With 1 s, a node serves its hottest pages without touching the database, and an anonymous visitor may see a
    change up to a second late; browsers and proxies already keep the page for PUBLIC_MAX_AGE."""
    ttl = float(current_app.config.get("PAGE_VERSION_SECONDS") or 0)
    if ttl <= 0:
        return contest_version(slug)
    known: dict[str, tuple[float, str]] = current_app.extensions.setdefault("portal_page_versions", {})
    now = time.monotonic()
    hit = known.get(slug)
    if hit is not None and hit[0] > now:
        return hit[1]
    version = contest_version(slug)
    if version is not None:
        if len(known) > 1000:
            known.clear()
        known[slug] = (now + ttl, version)
    return version


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
