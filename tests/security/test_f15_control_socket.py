"""Finding 15: no two gunicorns share ~/.gunicorn/gunicorn.ctl: every gunicorn the project starts turns it off."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from devtools.services import free_port, stop_processes, wait_http

ROOT = Path(__file__).resolve().parents[2]
# devtools/run.py: gunicorn_command, for make run and bench/upload.py; devtools/services.py: start_web, which the
# browser and upload tests use.
LAUNCHERS = ["devtools/run.py", "devtools/services.py"]


def _gunicorn_commands(path: Path) -> list[list[str]]:
    """The literal argument lists in path that start gunicorn."""
    commands = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.List):
            text = ast.unparse(node)
            if "'gunicorn'" in text or '"gunicorn"' in text:
                commands.append(text)
    return commands


def test_every_gunicorn_launcher_turns_the_control_socket_off():
    """Finding 15: each place that starts gunicorn (make run, start_web for the browser and upload tests, benches,
    these tests) passes --no-control-socket."""
    listed = subprocess.run(["git", "grep", "-l", 'gunicorn"', "--", "*.py"], cwd=ROOT, capture_output=True, text=True)
    files = set(listed.stdout.split()) | set(LAUNCHERS)
    found = {p: _gunicorn_commands(ROOT / p) for p in sorted(files)}
    assert all(found[p] for p in LAUNCHERS), found
    assert "gunicorn_command(" in (ROOT / "bench" / "upload.py").read_text(encoding="utf-8")  # make run's command line
    missing = {p: cmds for p, cmds in found.items() if not all("--no-control-socket" in c for c in cmds)}
    assert missing == {}


def test_two_portals_run_side_by_side_without_a_shared_socket(services, tmp_path):
    """Finding 15: two gunicorns started as the project starts them make no control socket in the shared home."""
    env = {**os.environ, "HOME": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    procs = []
    try:
        for _ in range(2):
            port = free_port()
            procs.append(
                subprocess.Popen(
                    [
                        str(Path(sys.executable).parent / "gunicorn"),
                        "--bind",
                        f"127.0.0.1:{port}",
                        "--no-control-socket",
                        "wsgi:app",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            wait_http(f"http://127.0.0.1:{port}/healthz", procs[-1])
        assert not (tmp_path / ".gunicorn").exists()
    finally:
        stop_processes(procs, timeout=10)
