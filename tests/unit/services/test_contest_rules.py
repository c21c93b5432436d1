"""The pure rules of contests and entries: the phases of a contest, which file names are videos, display helpers.

Models are built in memory, never flushed: no database, no services."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.i18n import duration, filesize
from app.models import Contest
from app.services import PortalError
from app.services.contests import accepts_entries, phase
from app.services.entries import check_upload_name

NOW = datetime(2026, 3, 1, 12, 0)
HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("opens_at", "closes_at", "published_at", "expected_phase", "accepts"),
    [
        (None, None, None, "open", True),
        (NOW + HOUR, None, None, "upcoming", False),
        (NOW, NOW + HOUR, None, "open", True),  # opening time itself: open
        (NOW - HOUR, NOW, None, "closed", False),  # the deadline itself: closed
        (NOW - 2 * HOUR, NOW - HOUR, None, "closed", False),
        (None, NOW + HOUR, NOW - HOUR, "published", False),  # publication ends intake even before the deadline
    ],
)
def test_contest_phase_and_intake(opens_at, closes_at, published_at, expected_phase, accepts):
    contest = Contest(slug="c", title="C", opens_at=opens_at, closes_at=closes_at, published_at=published_at)
    assert phase(contest, now=NOW) == expected_phase
    assert accepts_entries(contest, now=NOW) is accepts


@pytest.mark.parametrize(("name", "ext"), [("clip.mp4", ".mp4"), ("Phường 7.MOV", ".mov"), ("a.b.webm", ".webm")])
def test_check_upload_name_accepts_videos(name, ext):
    assert check_upload_name(name) == ext


@pytest.mark.parametrize("name", ["report.pdf", "clip", "", None, "clip.mp4.exe", ".mp4x"])
def test_check_upload_name_refuses_anything_else(name):
    with pytest.raises(PortalError) as refused:
        check_upload_name(name)
    assert refused.value.field == "file" and "MP4" in str(refused.value)  # plain words, no extension list (issue 12)


@pytest.mark.parametrize(
    ("seconds", "text"), [(None, ""), (0, "0:00"), (7.4, "0:07"), (59.6, "1:00"), (65, "1:05"), (3725, "1:02:05")]
)
def test_duration(seconds, text):
    assert duration(seconds) == text


@pytest.mark.parametrize(
    ("n", "text"),
    [(None, ""), (0, "0 B"), (1023, "1,023 B"), (1536, "1.5 KB"), (5 * 1024**2, "5.0 MB"), (3 * 1024**4, "3,072.0 GB")],
)
def test_filesize(n, text):
    """Outside a request: Babel's English. Pages use the reader's locale (test_newcomer_points.py)."""
    assert filesize(n) == text
