"""The status poll reads its one row without loading the clip (on PostgreSQL straight from the pooled driver
connection, app/units/routes.py): its answer must be the one that the clip itself gives, for every state the poller
shows, and a pooled connection that the server dropped must not turn a poll into an error."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.models import ClipStatus, Role, utcnow

pytestmark = pytest.mark.database_only

STATES = [
    {"status": ClipStatus.UPLOADED},
    {"status": ClipStatus.PROCESSING, "stage": "transcoding", "progress": 0.4276},
    {"status": ClipStatus.QUEUED, "stage": "retrying", "next_attempt_at": utcnow() + timedelta(minutes=3)},
    {
        "status": ClipStatus.REJECTED,
        "reason_code": "container_not_allowed",
        "reason_params": {"format": "FLV"},
        "reason": "container flv",
    },
    {
        "status": ClipStatus.REJECTED,
        "rejections": [{"code": "empty_file", "params": {}}, {"code": "not_media"}],
        "reason": "two",
    },
    {"status": ClipStatus.FAILED, "reason": "ffmpeg crashed"},
    {"status": ClipStatus.READY, "progress": 1.0, "stage": None},
]


@pytest.fixture
def member(make, browser):
    unit = make.unit("QP1")
    user = make.user(Role.UNIT, unit)
    browser.login(user.email)
    return unit


def test_poll_answers_as_the_clip_does(app, make, session, browser, member):
    from flask_babel import force_locale

    from app.clip_display import clip_status_doc

    contest = make.contest(max_entries_per_unit=len(STATES) + 1)
    no_clip = make.entry(contest, member, title="No clip", clip_status=None)
    assert browser.get(f"/unit/entries/{no_clip.id}/status.json").get_json() == {"status": None}
    for n, state in enumerate(STATES):
        entry = make.entry(contest, member, title=f"Entry {n}")
        for name, value in state.items():
            setattr(entry.clip, name, value)
        session.commit()
        for lang in ("vi", "en"):
            answer = browser.get(f"/unit/entries/{entry.id}/status.json?lang={lang}").get_json()
            with app.test_request_context("/"), force_locale(lang):
                expected = clip_status_doc(entry.clip)
            assert answer == expected, (state, lang)


def test_poll_survives_connections_that_the_server_dropped(app, make, session, browser, member):
    """The poll takes its connection from the engine's pool with the pool's pre-ping: connections that the server
    ended (a restart, an idle timeout) are replaced, not used."""
    from sqlalchemy import text

    from app import db

    if db.engine().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: a server that ends connections")
    entry = make.entry(make.contest(), member)
    poll = f"/unit/entries/{entry.id}/status.json"
    assert browser.get(poll).status_code == 200
    session.execute(
        text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    )
    session.commit()
    for _ in range(3):
        assert browser.get(poll).get_json()["status"] == "ready"


def test_poll_driver_errors_are_sqlalchemy_errors(app, make, session, browser, member):
    """On the driver connection the poll's errors still reach the app's handlers as SQLAlchemy raises them (a
    connection error: the translated 503 page), and the connection that failed is not pooled again."""
    import sqlalchemy.exc

    from app import db
    from app.units import routes

    engine = db.engine()
    if engine.dialect.driver != "psycopg":
        pytest.skip("PostgreSQL only: the driver path")
    statement = routes._PollStatement(engine.dialect)
    statement.sql = "SELECT 1 / 0"
    with pytest.raises(sqlalchemy.exc.DataError):
        statement.first(engine, {})
    assert engine.pool.checkedout() == 0
    entry = make.entry(make.contest(), member)
    assert browser.get(f"/unit/entries/{entry.id}/status.json").get_json()["status"] == "ready"
