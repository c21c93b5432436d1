"""Absolute links for what leaves the browser (mails, QR codes, og:url, certificate verification): PUBLIC_URL based."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for

from config import is_loopback_url


class PublicUrlMissing(RuntimeError):
    """PUBLIC_URL is not set, so an absolute link that must work outside this request cannot be made."""


def public_url_configured() -> bool:
    """True when PUBLIC_URL is set."""
    return bool(current_app.config.get("PUBLIC_URL"))


def public_url_is_loopback() -> bool:
    """True when PUBLIC_URL points at this machine only (fine for the demo, dead links for anyone else)."""
    return is_loopback_url(current_app.config.get("PUBLIC_URL"))


def absolute_url_for(endpoint: str, **values: Any) -> str:
    """The URL of endpoint under PUBLIC_URL (never the request's Host header, which a client controls)."""
    base = current_app.config.get("PUBLIC_URL")
    if not base:
        raise PublicUrlMissing("PUBLIC_URL is not set")
    return str(base).rstrip("/") + url_for(endpoint, _external=False, **values)
