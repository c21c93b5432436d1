"""Verification links printed in certificates' QR codes: PUBLIC_URL + /verify/<code>."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, url_for

from app.urls import PublicUrlMissing, public_url_is_loopback

PLACEHOLDER = "CODE-PLACEHOLDER"


def verify_url_maker() -> Callable[[str], str]:
    """A function code -> absolute verification URL; raises PublicUrlMissing without PUBLIC_URL.

    Works in a request, a command or a job alike: the path is built once in a throwaway request context (url_for
    needs one, or SERVER_NAME, outside requests) and the base is always PUBLIC_URL, never a request's Host."""
    base = current_app.config.get("PUBLIC_URL")
    if not base:
        raise PublicUrlMissing("PUBLIC_URL is not set")
    with current_app.test_request_context("/"):
        path = url_for("paperwork_public.verify", code=PLACEHOLDER)
    prefix, suffix = path.split(PLACEHOLDER)
    root = str(base).rstrip("/")
    return lambda code: f"{root}{prefix}{code}{suffix}"


def loopback_warning() -> bool:
    """True when PUBLIC_URL is a loopback address: the QR codes then work on this machine only."""
    return public_url_is_loopback()
