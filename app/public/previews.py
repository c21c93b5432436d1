"""Link previews (Open Graph, Twitter) and the share panel's links of a contest's public pages.

Absolute links use PUBLIC_URL only, never the request's Host header (a client controls it).
"""

from __future__ import annotations

import hashlib

from flask import request
from flask_babel import gettext as _
from markupsafe import escape

from app import db
from app.models import Contest
from app.outreach import images
from app.outreach.documents import MIME_TYPES
from app.services import news
from app.services.gallery import gallery_open
from app.services.materials import contest_materials
from app.urls import PublicUrlMissing, absolute_url_for


def absolute_or_none(endpoint: str, **values) -> str | None:
    """endpoint's URL under PUBLIC_URL, or None when PUBLIC_URL is not set."""
    try:
        return absolute_url_for(endpoint, **values)
    except PublicUrlMissing:
        return None


def share_links(contest: Contest) -> dict | None:
    """What the share panel offers: the contest link, its QR codes and the embed snippet; None without PUBLIC_URL."""
    url = absolute_or_none("public.contest", slug=contest.slug)
    if url is None:
        return None
    embed = absolute_or_none("public.embed", slug=contest.slug)
    snippet = (
        f'<iframe src="{embed}" title="{escape(contest.title)}" width="360" height="230" '
        'style="border:0;max-width:100%" loading="lazy"></iframe>'
    )
    return {"url": url, "embed_url": embed, "snippet": snippet}


def preview_meta(contest: Contest, *, title: str | None = None, description: str | None = None) -> dict:
    """Open Graph and Twitter card values of a public page of the contest (og:url is the page under PUBLIC_URL)."""
    endpoint, values = request.endpoint or "public.contest", dict(request.view_args or {})
    if contest.banner_key:
        image = absolute_or_none("public.banner", slug=contest.slug, v=version_token(contest.banner_key))
        size = None
    else:
        image = absolute_or_none("public.card", slug=contest.slug, v=version_token(contest.title))
        size = images.CARD_SIZE
    text = (description if description is not None else contest.description) or contest.title
    return {
        "title": title or contest.title,
        "description": " ".join(text.split())[:300],
        "url": absolute_or_none(endpoint, **values),
        "image": image,
        "image_size": size,
        "image_alt": contest.title,
        "site_name": _("Clip Contest Portal"),
    }


def version_token(text: str) -> str:
    """A short cache-busting token for image URLs (a changed title or banner is a new URL for link-preview caches)."""
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def outreach_context(contest: Contest) -> dict:
    """Everything the public contest page shows besides the contest itself."""
    return {
        "share": share_links(contest),
        "og": preview_meta(contest),
        "news_posts": news.published_posts(db.session, contest, limit=5),
        "materials": contest_materials(db.session, contest),
        "gallery": gallery_open(db.session, contest),
        "MIME_TYPES": MIME_TYPES,
    }
