"""The command line as operators and scripts see it: every command group through the composition root (wsgi.py), and
the operator's create commands audited like the organisers' pages (actor None: the command line)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from app.models import AuditEvent, Clip, Contest, Entry, EntryStatus, Unit, User

ROOT = Path(__file__).resolve().parents[2]
GROUPS = {
    "db": {"upgrade", "downgrade"},
    "storage": {"init"},
    "backup": {"create", "restore"},
    "demo": {"seed"},
    "units": {"add", "import"},
    "users": {"add", "set-password"},
    "contests": {"create"},
    "clips": {"import", "show", "requeue"},
    "results": {"show", "minutes"},
    "awards": {"certificates"},
    "uploads": {"sweep"},
    "reminders": {"send"},
}


def _commands(help_text: str) -> set[str]:
    """The command names of a click help page."""
    lines = help_text.split("Commands:", 1)[1].splitlines()
    return {line.split()[0] for line in lines if line.startswith("  ") and line.strip()}


def test_flask_app_wsgi_lists_every_command():
    """The real entry point, in its own process: `flask --app wsgi --help` lists every group and the worker."""
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "--help"],
        cwd=ROOT,
        env={**os.environ, "SECRET_KEY": "help-only-key-of-at-least-32-characters"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    top = _commands(done.stdout)
    assert top >= set(GROUPS) | {"worker"}, sorted(set(GROUPS) | {"worker"} - top)


def _help(app, *args: str) -> str:
    out = app.test_cli_runner().invoke(args=[*args, "--help"])
    assert out.exit_code == 0, out.output
    return out.output


def test_every_group_lists_its_commands_through_the_composition_root(app):
    """Each group's help, on the app composed as wsgi.py composes it (the web app plus the worker's commands), in
    this process: one `flask` process per group cost 2-3 s each and showed nothing more."""
    from media_worker.cli import register_worker_cli

    register_worker_cli(app)
    assert _commands(_help(app)) >= set(GROUPS) | {"worker"}
    for group, subcommands in GROUPS.items():
        assert _commands(_help(app, group)) == subcommands, group
    assert "--burst" in _help(app, "worker")


def test_the_web_app_alone_has_no_worker_commands(app):
    """create_app builds the web app only; the worker's commands come from the composition root."""
    assert "worker" not in app.cli.commands and "uploads" not in app.cli.commands
    assert "requeue" not in app.cli.commands["clips"].commands


def _invoke(app, *args: str) -> dict:
    from media_worker.cli import register_worker_cli

    register_worker_cli(app)
    out = app.test_cli_runner().invoke(args=list(args))
    assert out.exit_code == 0, out.output
    return json.loads(out.output)


def _events(session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_create_commands_write_audit_events(app, session, sample_clip):
    unit = _invoke(app, "units", "add", "p-7", "--name", "Phường 7", "--kind", "ward")
    [event] = _events(session, "unit.create")
    assert (event.actor_id, event.object_type, event.object_id) == (None, "Unit", str(unit["id"]))
    assert event.after == {"code": "P-7"} and session.get(Unit, unit["id"]).code == "P-7"

    user = _invoke(
        app, "users", "add", "Cli@Example.org", "--name", "Chị Lan", "--role", "unit", "--unit", "p-7",
        "--password", "secret-pass-1",
    )  # fmt: skip
    [event] = _events(session, "account.create")
    assert (event.actor_id, event.object_type, event.object_id) == (None, "User", str(user["id"]))
    assert event.after == {"email": "cli@example.org", "role": "unit"}
    assert session.get(User, user["id"]).unit_id == unit["id"]

    contest = _invoke(app, "contests", "create", "cli-audit", "--title", "Qua dòng lệnh", "--max-duration", "30")
    [event] = _events(session, "contest.create")
    assert (event.actor_id, event.object_type, event.contest_id) == (None, "Contest", contest["id"])
    assert event.after == {"slug": "cli-audit"} and session.get(Contest, contest["id"]).max_duration_s == 30

    ids = _invoke(
        app, "clips", "import", str(sample_clip), "--contest", "cli-audit", "--unit", "P-7", "--title", " Clip nhập "
    )
    [event] = _events(session, "entry.import")
    entry = session.get(Entry, ids["entry_id"])
    assert (event.actor_id, event.object_type, event.object_id, event.contest_id) == (
        None,
        "Entry",
        str(entry.id),
        contest["id"],
    )
    assert event.after["clip_id"] == ids["clip_id"] and event.after["unit"] == "P-7"
    assert entry.status == EntryStatus.SUBMITTED and entry.title == "Clip nhập" and entry.clip_id == ids["clip_id"]
    assert entry.submitted_at is not None and session.get(Clip, ids["clip_id"]).sha256


@pytest.mark.parametrize(
    "args, message",
    [
        (("units", "add", "x", "--name", " "), "required"),
        (("contests", "create", "No Slug!", "--title", "t"), "short name"),
        (("users", "add", "a@b.org", "--name", "A", "--role", "unit", "--password", "secret-pass-1"), "unit"),
    ],
)
def test_a_broken_rule_fails_the_command_and_writes_nothing(app, session, args, message):
    out = app.test_cli_runner().invoke(args=list(args))
    assert out.exit_code != 0 and message in out.output, out.output
    session.expire_all()
    assert session.scalars(select(AuditEvent)).all() == []


def test_import_of_a_file_that_is_no_video_writes_nothing(app, session, tmp_path):
    _invoke(app, "units", "add", "p-8", "--name", "Phường 8")
    _invoke(app, "contests", "create", "cli-refuse", "--title", "T")
    note = tmp_path / "notes.txt"
    note.write_text("not a clip")
    out = app.test_cli_runner().invoke(
        args=["clips", "import", str(note), "--contest", "cli-refuse", "--unit", "p-8", "--title", "T"]
    )
    assert out.exit_code != 0 and "video file" in out.output, out.output
    session.expire_all()
    assert session.scalars(select(Entry)).all() == [] and _events(session, "entry.import") == []
