"""A running portal (gunicorn + `flask worker` processes on the real services) and headless Debian Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.services import start_web, stop_processes
from tests.conftest import ROOT, WORKER

ARTIFACTS = ROOT / "test-artifacts"
# How long the portal's worker may take to make a clip ready: a bound for a loaded machine, never a pace to wait out.
PROCESSING_S = 600
STARTUP_S = 300  # the same, for gunicorn to answer (120 s was not enough at a load average of 28)
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so that fixtures can tell in teardown whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _failed(request) -> bool:
    report = getattr(request.node, "report_call", None)
    return report is not None and report.failed


def _artifact_name(request, suffix: str) -> Path:
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in request.node.name)
    return ARTIFACTS / f"failed-{stem}-{suffix}"


@pytest.fixture
def portal(app, tmp_path, request):
    """Start web and worker processes on the test services; yield the base URL. A test marked `no_worker` gets the
    web processes alone: nothing it does needs a job run, and a worker's start costs more CPU than most such tests."""
    # PAGE_VERSION_SECONDS=0: the browser may read a public page through one gunicorn worker right after another
    # worker committed a change; the default 1 s version reuse (tested in test_public_cache.py) would race that.
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PAGE_VERSION_SECONDS": "0"}
    logs = [open(tmp_path / "web.log", "wb"), open(tmp_path / "worker.log", "wb")]  # noqa: SIM115 - closed at teardown
    worker = None
    if request.node.get_closest_marker("no_worker") is None:
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
            cwd=ROOT,
            env=env,
            stdout=logs[1],
            stderr=subprocess.STDOUT,
        )
    web = None
    try:
        web, base = start_web(env, logs[0], cwd=ROOT, timeout=STARTUP_S)
        yield base
    finally:
        # Twice SIGTERM for the worker: a clip still being processed must not outlive the test (see stop_processes).
        stop_processes([proc for proc in (web, worker) if proc is not None], timeout=15, again_after=1.5)
        for log in logs:
            log.close()
        ARTIFACTS.mkdir(exist_ok=True)
        for name in ("web.log", "worker.log"):
            # The last portal's logs, one pair per xdist worker (web-gw0.log, …).
            shutil.copy(tmp_path / name, ARTIFACTS / (name.replace(".log", f"-{WORKER}.log") if WORKER else name))
            if _failed(request):
                shutil.copy(tmp_path / name, _artifact_name(request, name))


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    # Debian's headless shell (the browser without the desktop UI layers, what Playwright itself uses for headless
    # runs) when installed: the same Blink and V8, less CPU per page. E2E_CHROMIUM names another binary.
    executable = (
        os.environ.get("E2E_CHROMIUM")
        or shutil.which("chromium-headless-shell")
        or shutil.which("chromium")
        or "/usr/bin/chromium"
    )
    if not Path(executable).exists():
        pytest.fail(f"{executable} is not installed: run `make setup` (apt-get install chromium-headless-shell)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium, request):
    """Pages at phone width; when the test fails, a full-page screenshot of each is kept in test-artifacts/.

    Anything the Content-Security-Policy blocks (Chromium reports it on the console) fails the test: the pages must
    work without inline scripts, styles or handlers (docs/security.md, finding 8)."""
    contexts = []
    blocked: list[str] = []

    def on_console(message) -> None:
        if "Content Security Policy" in message.text:
            blocked.append(message.text)

    def make(**kwargs):
        context = chromium.new_context(viewport={"width": 360, "height": 780}, **kwargs)
        context.set_default_timeout(60_000)  # a bound for a loaded machine; passing tests never wait it out
        contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        page.on("console", on_console)
        return page

    yield make
    failed = _failed(request)
    if failed:
        ARTIFACTS.mkdir(exist_ok=True)
    for n, context in enumerate(contexts):
        if failed:
            for m, page in enumerate(context.pages):
                page.screenshot(path=str(_artifact_name(request, f"{n}-{m}.png")), full_page=True)
        context.close()
    assert not blocked, f"the Content-Security-Policy blocked: {blocked[:3]}"


def login(page, base: str, email: str) -> None:
    """Log in through the form, as a person would (every factory account has the same password)."""
    from tests.factories import PASSWORD

    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()[:1000]


def logout(page) -> None:
    page.click("header form[action='/logout'] button")
    page.wait_for_load_state()
