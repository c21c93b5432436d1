"""Public outreach pages: embed card, share QR codes, link-preview images, news and its Atom feed, materials, gallery.

Registered on the `public` blueprint (endpoints `public.*`). Absolute links (QR codes, og:url, og:image, the embed
snippet, the feed) use PUBLIC_URL only, never the request's Host header.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from flask import Response, abort, current_app, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _

from app import db
from app.connections import storage
from app.i18n import local_time
from app.lookups import contest_or_404, contest_row_or_404
from app.models import Contest, IntakeState, Material
from app.outreach import images
from app.outreach.documents import MIME_TYPES, content_disposition
from app.security import embeddable
from app.services import news
from app.services.contests import intake_state
from app.services.gallery import gallery_entries, gallery_open
from app.services.results import latest_publication
from app.templating import render_markdown

from .caching import public_page
from .previews import absolute_or_none, preview_meta
from .routes import bp

IMAGE_CACHE = "public, max-age=600"


@bp.route("/c/<slug>/embed")
@embeddable
def embed(slug: str):
    contest = contest_or_404(slug)
    target = absolute_or_none("public.contest", slug=contest.slug) or url_for("public.contest", slug=contest.slug)
    return render_template("public/embed.html", contest=contest, phase=_embed_phase(contest), target=target)


def _embed_phase(contest: Contest) -> str:
    """What the card says: intake open or upcoming, else whether results are out (the judges at work otherwise)."""
    state = intake_state(contest)
    if state in (IntakeState.OPEN, IntakeState.UPCOMING):
        return state.value
    return "published" if latest_publication(db.session, contest) else "closed"


@bp.route("/c/<slug>/qr.<fmt>")
def share_qr(slug: str, fmt: str):
    contest = contest_or_404(slug)
    url = absolute_or_none("public.contest", slug=contest.slug)
    if url is None or fmt not in ("svg", "png"):
        abort(404)
    if fmt == "svg":
        body, mimetype = images.qr_svg(url, title=contest.title), "image/svg+xml"
    else:
        body, mimetype = images.qr_png(url), "image/png"
    response = Response(body, mimetype=mimetype)
    response.headers["Cache-Control"] = IMAGE_CACHE
    if request.args.get("download"):
        response.headers["Content-Disposition"] = content_disposition(f"qr-{contest.slug}.{fmt}")
    return response


@bp.route("/c/<slug>/card.png")
def card(slug: str):
    """The generated link-preview card (og:image when the contest has no banner)."""
    contest = contest_or_404(slug)
    footer = (
        [_("Deadline: %(when)s", when=local_time(contest.closes_at, contest.timezone))] if contest.closes_at else []
    )
    host = urlsplit(current_app.config.get("PUBLIC_URL") or "").netloc
    if host:
        footer.append(host)
    body = images.card_png(contest.title, kicker=_("Contest"), footer=" · ".join(footer))
    response = Response(body, mimetype="image/png")
    response.headers["Cache-Control"] = IMAGE_CACHE
    return response


@bp.route("/c/<slug>/banner.jpg")
def banner(slug: str):
    contest = contest_or_404(slug)
    if not contest.banner_key:
        abort(404)
    store = storage()
    size = store.size(contest.banner_key)
    if size is None:
        abort(404)
    response = Response(stream_with_context(store.open_range(contest.banner_key)), mimetype="image/jpeg")
    response.headers["Content-Length"] = str(size)
    response.headers["Cache-Control"] = IMAGE_CACHE
    return response


@bp.route("/c/<slug>/news")
@public_page
def news_list(slug: str):
    contest = contest_or_404(slug)
    posts = news.published_posts(db.session, contest)
    return render_template(
        "public/news_list.html", contest=contest, posts=posts, og=preview_meta(contest, title=_("News"))
    )


@bp.route("/c/<slug>/news/<int:post_id>")
@public_page
def news_post(slug: str, post_id: int):
    contest = contest_or_404(slug)
    post = news.public_post(db.session, contest, post_id) or abort(404)
    og = preview_meta(contest, title=post.title, description=render_markdown(post.body_md[:2000]).striptags())
    return render_template("public/news_post.html", contest=contest, post=post, og=og)


@bp.route("/c/<slug>/news.atom")
def news_feed(slug: str):
    contest = contest_or_404(slug)
    posts = news.published_posts(db.session, contest, limit=50)
    body = render_template(
        "public/news_atom.xml",
        contest=contest,
        posts=posts,
        feed_id=_urn(f"{contest.slug}/news"),
        entry_id=lambda post: _urn(f"{contest.slug}/news/{post.id}"),
        link=lambda endpoint, **v: absolute_or_none(endpoint, **v) or url_for(endpoint, **v),
        html_of=lambda post: str(render_markdown(post.body_md)),  # a plain str: escaped once more inside the XML
        updated=max((p.updated_at for p in posts), default=contest.created_at),
    )
    response = Response(body, mimetype="application/atom+xml")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _urn(name: str) -> str:
    """A stable Atom id that does not change when the portal moves to another address."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"clip-contest-portal:{name}").urn


@bp.route("/c/<slug>/materials/<int:material_id>")
def material_file(slug: str, material_id: int):
    contest = contest_or_404(slug)
    material = contest_row_or_404(Material, material_id, contest)
    store = storage()
    size = store.size(material.object_key)
    if size is None:
        abort(404)
    headers = {
        "Content-Disposition": content_disposition(material.filename),
        "Content-Length": str(size),
        "Cache-Control": "public, max-age=300",
    }
    if request.method == "HEAD":
        return Response(headers=headers, mimetype=MIME_TYPES[material.kind])
    body = store.open_range(material.object_key)
    return Response(
        stream_with_context(body), headers=headers, mimetype=MIME_TYPES[material.kind], direct_passthrough=True
    )


@bp.route("/c/<slug>/gallery")
def gallery(slug: str):
    contest = contest_or_404(slug)
    if not gallery_open(db.session, contest):
        abort(404)
    return render_template(
        "public/gallery.html",
        contest=contest,
        entries=gallery_entries(db.session, contest),
        publication=latest_publication(db.session, contest),
        og=preview_meta(contest, title=_("Gallery")),
    )
