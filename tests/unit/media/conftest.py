"""Fixtures for the media pipeline tests: session-wide lavfi clips, a counting loopback listener, a FIFO tripwire."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # media_worker importable even when run without the top-level conftest

from mediakit import Clips, Listener, Tripwire  # noqa: E402


@pytest.fixture(scope="session")
def clips(tmp_path_factory) -> Clips:
    """Session-wide clip factory: clips["h264.mp4"] -> Path, generated on first use."""
    return Clips(tmp_path_factory.mktemp("clips"))


@pytest.fixture
def listener():
    """A counting loopback listener on an ephemeral port."""
    server = Listener()
    yield server
    server.close()


@pytest.fixture
def tripwire(tmp_path):
    """A FIFO at tmp_path/outside/secret.ts, next to (not inside) the job dir."""
    (tmp_path / "outside").mkdir()
    wire = Tripwire(tmp_path / "outside" / "secret.ts")
    yield wire
    wire.close()
