"""Public pages: contests, rules, countdown, published winners."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_babel import gettext as _

from app import db
from app.media.routes import clip_versions
from app.services.contests import get_contest, list_contests
from app.services.gallery import gallery_open
from app.services.results import latest_publication

from .caching import public_page
from .previews import outreach_context, preview_meta

bp = Blueprint("public", __name__)


@bp.route("/")
def index():
    contests = list_contests(db.session)
    if len(contests) == 1:
        return redirect(url_for("public.contest", slug=contests[0].slug))
    return render_template("public/index.html", contests=contests)


@bp.route("/c/<slug>")
@public_page
def contest(slug: str):
    contest = get_contest(db.session, slug) or abort(404)
    return render_template(
        "public/contest.html",
        contest=contest,
        publication=latest_publication(db.session, contest),
        **outreach_context(contest),
    )


@bp.route("/c/<slug>/winners")
@public_page
def winners(slug: str):
    contest = get_contest(db.session, slug) or abort(404)
    pub = latest_publication(db.session, contest)
    if pub is None:
        return render_template("public/not_published.html", contest=contest), 404
    placed = [w for award in pub.snapshot["awards"] for w in award.get("winners") or ()]
    return render_template(
        "public/winners.html",
        contest=contest,
        publication=pub,
        snapshot=pub.snapshot,
        clip_versions=clip_versions(db.session, (w["clip_id"] for w in placed if w.get("clip_id"))),
        gallery=gallery_open(db.session, contest),
        og=preview_meta(contest, title=_("Winners") + " · " + pub.snapshot["title"]),
    )


@bp.route("/favicon.ico")
def favicon():
    """Browsers and link previews ask for /favicon.ico first: answer with the vendored icon instead of a 404."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)


@bp.route("/healthz")
def healthz():
    return {"ok": True}
