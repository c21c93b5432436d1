"""News posts (Tin tức) of a contest: organisers write Markdown, as draft or published; the public sees published
posts only."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.db import DbSession
from app.models import Contest, NewsPost, NewsStatus, User, utcnow
from app.permissions import require_outreach_manager
from app.services import PortalError
from app.services.audit import add_created, record_event

TITLE_MAX = 300
BODY_MAX = 100_000


def _check(title: str, body_md: str) -> None:
    if not title.strip():
        raise PortalError(_l("The post needs a title."), field="title")
    if len(title) > TITLE_MAX:
        raise PortalError(_l("The title is too long."), field="title")
    if len(body_md) > BODY_MAX:
        raise PortalError(_l("The text is too long."), field="body_md")


def _publish_state(post: NewsPost, publish: bool) -> None:
    post.status = NewsStatus.PUBLISHED if publish else NewsStatus.DRAFT
    if publish and post.published_at is None:
        post.published_at = utcnow()


def create_post(
    session: DbSession, *, actor: User | None, contest: Contest, title: str, body_md: str, publish: bool = False
) -> NewsPost:
    """Write a post (audited); published at once when `publish`, a draft otherwise."""
    require_outreach_manager(actor)
    _check(title, body_md)
    post = NewsPost(contest_id=contest.id, title=title.strip(), body_md=body_md, author_id=actor.id if actor else None)
    _publish_state(post, publish)
    return add_created(
        session, post, actor=actor, action="news.create", after={"title": post.title, "status": post.status.value}
    )


def update_post(
    session: DbSession, *, actor: User | None, post: NewsPost, title: str, body_md: str, publish: bool
) -> NewsPost:
    """Edit a post, publish it or take it back to draft (audited). A post keeps its first publication date."""
    require_outreach_manager(actor)
    _check(title, body_md)
    before = {"title": post.title, "status": post.status.value, "body_changed": False}
    body_changed = post.body_md != body_md
    post.title, post.body_md = title.strip(), body_md
    _publish_state(post, publish)
    record_event(
        session,
        actor=actor,
        action="news.update",
        obj=post,
        before=before,
        after={"title": post.title, "status": post.status.value, "body_changed": body_changed},
    )
    return post


def delete_post(session: DbSession, *, actor: User | None, post: NewsPost) -> None:
    """Remove a post (audited)."""
    require_outreach_manager(actor)
    record_event(
        session, actor=actor, action="news.delete", obj=post, before={"title": post.title, "status": post.status.value}
    )
    session.delete(post)
    session.flush()


def published_posts(session: DbSession, contest: Contest, *, limit: int | None = None) -> list[NewsPost]:
    """The public's list: published posts, newest first."""
    query = (
        select(NewsPost)
        .where(NewsPost.contest_id == contest.id, NewsPost.status == NewsStatus.PUBLISHED)
        .order_by(NewsPost.published_at.desc(), NewsPost.id.desc())
    )
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


def all_posts(session: DbSession, contest: Contest) -> list[NewsPost]:
    """The organiser's list: drafts first, then published posts newest first."""
    return list(
        session.scalars(
            select(NewsPost)
            .where(NewsPost.contest_id == contest.id)
            .order_by(NewsPost.status, NewsPost.published_at.desc(), NewsPost.id.desc())
        )
    )


def public_post(session: DbSession, contest: Contest, post_id: int) -> NewsPost | None:
    """A published post of this contest, or None (drafts do not exist for the public)."""
    post = session.get(NewsPost, post_id)
    if post is None or post.contest_id != contest.id or post.status != NewsStatus.PUBLISHED:
        return None
    return post
