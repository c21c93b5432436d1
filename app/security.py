"""Secure defaults for every response (headers, finding 8) and safe redirect targets (finding 7).

See docs/security.md for the threat model and how each defence is tested (tests/security/).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request
from flask_login import current_user
from werkzeug.routing import IntegerConverter

# A view decorated with @embeddable may be framed by other sites; every other page refuses to be framed.
EMBEDDABLE_ATTR = "_frame_ancestors"


def safe_next(target: str | None, default: str = "/") -> str:
    """`target` when it is a path on this site, `default` otherwise.

    Browsers are lenient: they drop tabs and newlines inside URLs and read a backslash as a slash, so
    `/\\t/evil.example` or `/\\evil.example` would leave the site. Anything with a scheme, a host, a backslash or a
    control character is refused rather than repaired.
    """
    if not target or not isinstance(target, str):
        return default
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target) or "\\" in target:
        return default
    if not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def same_origin_request() -> bool:
    """False when the browser says this request came from another site (Sec-Fetch-Site, else Origin).

    Browsers that send neither header (very old ones) are let through: the check guards low-stakes anonymous forms
    (the language switch) that carry no CSRF token so that their pages stay cacheable.
    """
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    allowed = {request.host}
    public = current_app.config.get("PUBLIC_URL")
    if public:
        allowed.add(urlsplit(public).netloc)
    return urlsplit(origin).netloc in allowed


def embeddable(view: Callable | None = None, *, ancestors: str = "*") -> Any:
    """Let other sites frame this view (CSP `frame-ancestors`); use it only on pages made to be embedded."""

    def decorate(func: Callable) -> Callable:
        setattr(func, EMBEDDABLE_ATTR, ancestors)
        return func

    return decorate(view) if view is not None else decorate


def store_origins(config) -> list[str]:
    """Origins of the object store that browsers talk to directly (direct uploads, media redirected to the store)."""
    if config.get("UPLOAD_MODE") != "direct" and config.get("MEDIA_DELIVERY") != "redirect":
        return []
    endpoint = config.get("S3_PUBLIC_ENDPOINT_URL") or config.get("S3_ENDPOINT_URL")
    if endpoint:
        parts = urlsplit(endpoint)
        return [f"{parts.scheme}://{parts.netloc}"] if parts.scheme and parts.netloc else []
    region = config.get("S3_REGION") or "us-east-1"  # AWS itself, path-style addressing (app/storage.py)
    origins = [f"https://s3.{region}.amazonaws.com"]
    if region == "us-east-1":
        origins.append("https://s3.amazonaws.com")
    return origins


def content_security_policy(config, frame_ancestors: str = "'none'") -> str:
    """The portal's CSP: same-origin everything, no inline scripts (so public pages stay cacheable, no nonces)."""
    store = " ".join(store_origins(config))
    extra = f" {store}" if store else ""
    directives = [
        "default-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        f"frame-ancestors {frame_ancestors}",
        f"connect-src 'self'{extra}",
        f"media-src 'self'{extra}",
        # data: for the small SVG icons inlined in the uploader's stylesheet (images cannot run scripts).
        f"img-src 'self' data:{extra}",
    ]
    return "; ".join(directives)


class DatabaseIdConverter(IntegerConverter):
    """`<int:…>` URL parts larger than a database integer are a 404 like any unknown id, not an overflow (a 500)."""

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def init_security(app: Flask) -> None:
    """Add the security headers to every response of `app`; call it before any blueprint adds its URL rules."""
    app.url_map.converters["int"] = DatabaseIdConverter
    policy = content_security_policy(app.config)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        view = current_app.view_functions.get(request.endpoint or "")
        ancestors = getattr(view, EMBEDDABLE_ATTR, None)
        headers = response.headers
        if ancestors is None:
            headers.setdefault("Content-Security-Policy", policy)
        else:
            headers.setdefault("Content-Security-Policy", content_security_policy(current_app.config, ancestors))
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        # Pages for logged-in users must not be kept by shared caches or the browser's back button after logout.
        # Views that chose their own caching (authorised media: private, short) keep it.
        if "Cache-Control" not in headers and _logged_in():
            headers["Cache-Control"] = "no-store"
        return response


def _logged_in() -> bool:
    try:
        return bool(current_user and current_user.is_authenticated)
    except Exception:  # a broken session or database must not turn a finished response into an error
        return False
