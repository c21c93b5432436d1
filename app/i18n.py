"""Locale and time-zone handling: Vietnamese by default, English on request; times shown in the contest's zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app, request, session
from flask_babel import format_datetime, format_decimal, get_locale, gettext
from flask_login import current_user


def select_locale() -> str:
    """?lang= (remembered in the session) > the user's choice > the default (vi)."""
    languages = current_app.config["LANGUAGES"]
    asked = request.args.get("lang")
    if asked is not None and asked in languages:
        session["lang"] = asked
        return asked
    if session.get("lang") in languages:
        return session["lang"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def local_time(value: datetime | None, tz: str | None = None, fmt: str = "medium") -> str:
    """Format an aware UTC datetime in tz (default Asia/Ho_Chi_Minh), in the current locale."""
    if value is None:
        return ""
    zone = ZoneInfo(tz or current_app.config["BABEL_DEFAULT_TIMEZONE"])
    local = value.astimezone(zone)
    pattern = {"medium": "HH:mm, dd/MM/yyyy", "date": "dd/MM/yyyy", "full": "HH:mm:ss, dd/MM/yyyy"}.get(fmt, fmt)
    return local.strftime(_strftime(pattern)) + f" ({_zone_label(local)})"


def local_to_utc(value: datetime | None, tz: str) -> datetime | None:
    """A naive wall-clock time typed in zone tz (a form field) as aware UTC."""
    return value.replace(tzinfo=ZoneInfo(tz)).astimezone(ZoneInfo("UTC")) if value else None


def utc_to_local(value: datetime | None, tz: str) -> datetime | None:
    """An aware UTC time as naive wall-clock time in zone tz (to prefill a form field)."""
    return value.astimezone(ZoneInfo(tz)).replace(tzinfo=None) if value else None


def _strftime(pattern: str) -> str:
    return (
        pattern.replace("HH", "%H")
        .replace("mm", "%M")
        .replace("ss", "%S")
        .replace("dd", "%d")
        .replace("MM", "%m")
        .replace("yyyy", "%Y")
    )


def _zone_label(local: datetime) -> str:
    offset = local.utcoffset()
    hours = int(offset.total_seconds() // 3600) if offset else 0
    return f"GMT{hours:+d}"


def duration(seconds: float | None) -> str:
    """m:ss (or h:mm:ss) for a duration in seconds."""
    if seconds is None:
        return ""
    total = int(round(seconds))
    h, rem = divmod(total, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def number(value: float | None, digits: int | None = None, *, sign: bool = False) -> str:
    """A number for people, in the current locale (vi: 1.234,5; en: 1,234.5).

    digits=None shows up to three decimals and drops trailing zeros (like %g); an int fixes the decimals shown.
    Exports and form values keep machine-readable numbers: this is for display only."""
    if value is None:
        return ""
    pattern = "#,##0.###" if digits is None else "#,##0" + ("." + "0" * digits if digits else "")
    if sign:
        pattern = f"+{pattern};-{pattern}"
    return format_decimal(value, format=pattern)


def filesize(n: float | None) -> str:
    """A byte count in B/KB/MB/GB (binary multiples), with the locale's decimal separator."""
    if n is None:
        return ""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{number(size, 0)} {unit}" if unit == "B" else f"{number(size, 1)} {unit}"
        size /= 1024
    return ""


def lang() -> str:
    return str(get_locale() or "vi")


__all__ = ["select_locale", "local_time", "duration", "number", "filesize", "lang", "format_datetime", "gettext"]
