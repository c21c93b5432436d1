"""The pure rules of contests and entries: the intake state of a contest, which file names are videos, display helpers.

Models are built in memory, never flushed: no database, no services."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.i18n import duration, filesize
from app.models import Contest, IntakeState
from app.services import PortalError
from app.services.contests import accepts_entries, intake_refusal, intake_state
from app.services.entries import check_upload_name

NOW = datetime(2026, 3, 1, 12, 0)
HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("opens_at", "closes_at", "published_at", "closed_by_hand", "expected", "accepts"),
    [
        (None, None, None, None, IntakeState.OPEN, True),
        (NOW + HOUR, None, None, None, IntakeState.UPCOMING, False),
        (NOW, NOW + HOUR, None, None, IntakeState.OPEN, True),  # opening time itself: open
        (NOW - HOUR, NOW, None, None, IntakeState.DEADLINE_PASSED, False),  # the deadline itself: closed
        (NOW - 2 * HOUR, NOW - HOUR, None, None, IntakeState.DEADLINE_PASSED, False),
        # Publication is a separate phase: it does not end intake before the deadline (issue 12).
        (None, NOW + HOUR, NOW - HOUR, None, IntakeState.OPEN, True),
        (None, NOW + HOUR, NOW - HOUR, NOW - HOUR, IntakeState.CLOSED_BY_ORGANISER, False),
        (NOW - 2 * HOUR, NOW - HOUR, None, NOW - 2 * HOUR, IntakeState.CLOSED_BY_ORGANISER, False),
    ],
)
def test_contest_intake_state(opens_at, closes_at, published_at, closed_by_hand, expected, accepts):
    contest = Contest(
        slug="c",
        title="C",
        opens_at=opens_at,
        closes_at=closes_at,
        published_at=published_at,
        intake_closed_at=closed_by_hand,
    )
    assert intake_state(contest, now=NOW) == expected
    assert accepts_entries(contest, now=NOW) is accepts
    assert (intake_refusal(contest, now=NOW) is None) is accepts


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
