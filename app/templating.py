"""Template filters and globals: local times, durations, Markdown, the contest's intake state."""

from __future__ import annotations

from datetime import UTC

import bleach
import markdown as md
from flask import Flask, current_app
from flask_babel import get_locale
from markupsafe import Markup

from app import i18n, judging_text, labels
from app.models import utcnow
from app.services.contests import intake_refusal, intake_state

ALLOWED_TAGS = [
    "p",
    "br",
    "strong",
    "em",
    "b",
    "i",
    "u",
    "ul",
    "ol",
    "li",
    "h2",
    "h3",
    "h4",
    "blockquote",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "hr",
    "code",
    "pre",
]


def render_markdown(text: str | None) -> Markup:
    """Markdown to sanitised HTML (organisers' rules text may be pasted from anywhere)."""
    html = md.markdown(text or "", extensions=["tables", "sane_lists"])
    clean = bleach.clean(
        html, tags=ALLOWED_TAGS, attributes={"a": ["href", "title"]}, protocols=["http", "https", "mailto"]
    )
    return Markup(clean)  # noqa: S704 - bleach-sanitised above


def register_templating(app: Flask) -> None:
    app.jinja_env.filters.update(
        localtime=i18n.local_time,
        duration=i18n.duration,
        filesize=i18n.filesize,
        number=i18n.number,
        markdown=render_markdown,
        isoutc=lambda d: d.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if d else "",
        label=labels.label,
        tie_break_label=judging_text.tie_break_label,
        tie_break_note=judging_text.tie_break_note,
        agreement_note=judging_text.agreement_note,
        agreement_verdict=judging_text.verdict,
    )

    @app.context_processor
    def _globals():
        return {
            "current_locale": str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"]),
            "METHOD_LABELS": labels.METHOD_LABELS,
            "languages": current_app.config["LANGUAGES"],
            "now_utc": utcnow(),
            "intake_state": intake_state,
            "ICC_MEASURES": judging_text.ICC_MEASURES,
            "intake_refusal": intake_refusal,
        }
