"""Error type shared by the whole judging package."""

from __future__ import annotations


class JudgingError(ValueError):
    """Invalid judging input; the message names the offending item or CSV row."""
