"""`flask demo seed --published`: a complete, published contest through the real pipeline, in one command."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from app.models import Certificate, ClipStatus, Entry, Publication
from tests.conftest import DEMO_PUBLIC_URL

# Twelve real transcodes, once per run: the `published_demo` fixture runs the command in a `flask` process, as an
# operator does, and each test gets a fresh copy of what it made.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("published-demo")]


def test_demo_seed_published_makes_a_whole_contest(app, services, session, client, tmp_path, published_demo):
    from media_worker.cli import register_worker_cli

    created = published_demo.output["published"]
    assert created == {"contest": "demo-published", "entries_ready": 12, "certificates": 7}
    published_demo.restore(app)
    register_worker_cli(app)  # as wsgi.py does: the command processes the clips through the worker's job
    app.config["PUBLIC_URL"] = DEMO_PUBLIC_URL

    entries = list(session.scalars(select(Entry).join(Entry.contest).where(Entry.contest.has(slug="demo-published"))))
    assert len(entries) == 12 and len({e.unit_id for e in entries}) == 8
    for entry in entries:
        assert entry.clip.status == ClipStatus.READY, entry.clip.reason
        assert 5 <= entry.clip.duration_s <= 10 and entry.clip.height == 480
    pub = session.scalar(select(Publication))
    assert [a["name"] for a in pub.snapshot["awards"] if a["winners"]][:4] == [
        "Giải Nhất",
        "Giải Nhì",
        "Giải Ba",
        "Giải Tác giả xuất sắc",
    ]
    assert len(pub.snapshot["judges"]) == 3

    winners = client.get("/c/demo-published/winners").get_data(as_text=True)
    assert "Bữa cơm chiều chia đôi việc nhà" in winners
    cert = session.scalar(select(Certificate).where(Certificate.recipient == "Nguyễn Thị Bình"))
    assert cert is not None and cert.award_name == "Giải Tác giả xuất sắc"
    assert "Nguyễn Thị Bình" in client.get(f"/verify/{cert.code}").get_data(as_text=True)

    # Idempotent: a second run changes nothing.
    again = app.test_cli_runner().invoke(args=["demo", "seed", "--published"])
    assert again.exit_code == 0, again.output
    assert session.scalar(select(func.count()).select_from(Entry)) == 12
    assert session.scalar(select(func.count()).select_from(Publication)) == 1

    listed = app.test_cli_runner().invoke(
        args=["awards", "certificates", "--contest", "demo-published", "--out", str(tmp_path)]
    )
    assert listed.exit_code == 0, listed.output
    docs = json.loads(listed.stdout)
    assert len(docs) == 7 and urlsplit(docs[0]["verify_url"]).path.startswith("/verify/")
    text = subprocess.run(["pdftotext", docs[0]["file"], "-"], capture_output=True, text=True, check=True).stdout
    assert "Hội Liên hiệp Phụ nữ thành phố" in " ".join(text.split())
    minutes = app.test_cli_runner().invoke(
        args=["results", "minutes", "--contest", "demo-published", "--out", str(tmp_path / "bb.pdf")]
    )
    assert minutes.exit_code == 0, minutes.output
    assert Path(json.loads(minutes.stdout)["file"]).stat().st_size > 10_000
