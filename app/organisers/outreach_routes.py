"""Organisers: a contest's news, materials, banner and public gallery (registered on the `organisers` blueprint)."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import db
from app.committing import committing, save_form
from app.connections import storage
from app.lookups import contest_or_404
from app.models import Contest, Material, NewsPost, NewsStatus
from app.outreach.documents import MIME_TYPES
from app.public.previews import share_links
from app.services import materials as material_service
from app.services import news as news_service
from app.services import showcase
from app.services.gallery import gallery_open

from .forms import BannerForm, GalleryForm, MaterialForm, NewsForm
from .routes import bp


@bp.route("/c/<slug>/news")
def news_admin(slug: str):
    contest = contest_or_404(slug)
    posts = news_service.all_posts(db.session, contest)
    return render_template("organisers/news.html", contest=contest, posts=posts)


def _news_form(contest: Contest, post: NewsPost | None):
    """The news post form: a new post of `contest`, or editing `post`."""
    form = NewsForm(obj=post) if request.method == "GET" else NewsForm()
    if post is not None and request.method == "GET":
        form.publish.data = post.status == NewsStatus.PUBLISHED

    def save() -> None:
        fields = dict(title=form.title.data, body_md=form.body_md.data or "", publish=form.publish.data)
        if post is None:
            news_service.create_post(db.session, actor=current_user, contest=contest, **fields)
        else:
            news_service.update_post(db.session, actor=current_user, post=post, **fields)

    if save_form(form, _("News post saved."), save).ok:
        return redirect(url_for("organisers.news_admin", slug=contest.slug))
    return render_template("organisers/news_form.html", contest=contest, form=form, post=post)


@bp.route("/c/<slug>/news/new", methods=["GET", "POST"])
def new_post(slug: str):
    return _news_form(contest_or_404(slug), None)


def _post_or_404(post_id: int) -> NewsPost:
    return db.session.get(NewsPost, post_id) or abort(404)


@bp.route("/news/<int:post_id>/edit", methods=["GET", "POST"])
def edit_post(post_id: int):
    post = _post_or_404(post_id)
    return _news_form(post.contest, post)


@bp.route("/news/<int:post_id>/delete", methods=["POST"])
def delete_post(post_id: int):
    post = _post_or_404(post_id)
    slug = post.contest.slug
    with committing(_("News post deleted."), "info"):
        news_service.delete_post(db.session, actor=current_user, post=post)
    return redirect(url_for("organisers.news_admin", slug=slug))


@bp.route("/c/<slug>/materials", methods=["GET", "POST"])
def materials_admin(slug: str):
    contest = contest_or_404(slug)
    form = MaterialForm()
    saved = save_form(
        form,
        _("Document added."),
        lambda: material_service.add_material(
            db.session,
            storage(),
            actor=current_user,
            contest=contest,
            stream=form.file.data.stream,
            filename=form.file.data.filename or "",
            title=form.title.data or "",
        ),
    )
    if saved.ok:
        return redirect(url_for("organisers.materials_admin", slug=contest.slug))
    materials = material_service.contest_materials(db.session, contest)
    return render_template(
        "organisers/materials.html", contest=contest, form=form, materials=materials, MIME_TYPES=MIME_TYPES
    )


@bp.route("/materials/<int:material_id>/delete", methods=["POST"])
def delete_material(material_id: int):
    material = db.session.get(Material, material_id) or abort(404)
    slug = material.contest.slug
    with committing(_("Document removed."), "info"):
        material_service.remove_material(db.session, storage(), actor=current_user, material=material)
    return redirect(url_for("organisers.materials_admin", slug=slug))


def _showcase_page(contest: Contest, banner_form: BannerForm) -> str:
    return render_template(
        "organisers/showcase.html",
        contest=contest,
        banner_form=banner_form,
        gallery_form=GalleryForm(public=contest.gallery_public),
        gallery_open=gallery_open(db.session, contest),
        share=share_links(contest),
    )


@bp.route("/c/<slug>/showcase", methods=["GET"])
def showcase_admin(slug: str):
    return _showcase_page(contest_or_404(slug), BannerForm())


@bp.route("/c/<slug>/banner", methods=["POST"])
def upload_banner(slug: str):
    contest = contest_or_404(slug)
    form = BannerForm()
    if form.validate_on_submit():
        with committing(_("Banner saved.")):
            showcase.set_banner(
                db.session, storage(), actor=current_user, contest=contest, stream=form.banner.data.stream
            )
        return redirect(url_for("organisers.showcase_admin", slug=contest.slug))
    return _showcase_page(contest, form), 400


@bp.route("/c/<slug>/banner/delete", methods=["POST"])
def delete_banner(slug: str):
    contest = contest_or_404(slug)
    with committing(_("Banner removed: the generated card is used instead."), "info"):
        showcase.remove_banner(db.session, storage(), actor=current_user, contest=contest)
    return redirect(url_for("organisers.showcase_admin", slug=contest.slug))


@bp.route("/c/<slug>/gallery", methods=["POST"])
def set_gallery(slug: str):
    contest = contest_or_404(slug)
    form = GalleryForm()
    save_form(
        form,
        _("Gallery setting saved."),
        lambda: showcase.set_gallery_public(db.session, actor=current_user, contest=contest, public=form.public.data),
    )
    return redirect(url_for("organisers.showcase_admin", slug=contest.slug))
