"""Absolute links for what leaves the browser (mails, QR codes, og:url, certificate verification): PUBLIC_URL based."""

from __future__ import annotations

from typing import Any

from flask import current_app

from config import is_loopback_url


class PublicUrlMissing(RuntimeError):
    """PUBLIC_URL is not set, so an absolute link that must work outside this request cannot be made."""


def public_url_configured() -> bool:
    """True when PUBLIC_URL is set."""
    return bool(current_app.config.get("PUBLIC_URL"))


def public_url_is_loopback() -> bool:
    """True when PUBLIC_URL points at this machine only (fine for the demo, dead links for anyone else)."""
    return is_loopback_url(current_app.config.get("PUBLIC_URL"))


def app_path_for(endpoint: str, **values: Any) -> str:
    """The path of endpoint inside the app (from /), in a request or not (CLI commands and jobs have none)."""
    adapter = current_app.url_map.bind("localhost", script_name="/")
    return adapter.build(endpoint, values)


def absolute_url_for(endpoint: str, **values: Any) -> str:
    """The URL of endpoint under PUBLIC_URL (never the request's Host header, which a client controls); works outside
    requests too (CLI commands, jobs)."""
    base = current_app.config.get("PUBLIC_URL")
    if not base:
        raise PublicUrlMissing("PUBLIC_URL is not set")
    return str(base).rstrip("/") + app_path_for(endpoint, **values)


def warn_if_public_url_missing(config, logger) -> None:
    """The start-up warning of a production process (web, worker) without PUBLIC_URL: mails would carry bare paths."""
    if not config.get("PUBLIC_URL") and not config.get("TESTING") and not config.get("DEBUG"):
        logger.warning(
            "PUBLIC_URL is not set: links in mails cannot be made absolute; set it to the portal's address as users "
            "reach it, e.g. https://cuocthi.example.gov.vn"
        )
